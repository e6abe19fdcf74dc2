"""Inventory: warehouses, stock per SKU per warehouse, reservations, receipts, adjustments,
transfers, the append-only stock ledger, and warehouse choice for a destination.

Depends on: core, identity (audit), catalog (SKU references). Glossary: CONTEXT.md (仓库, 前置仓,
库存, 预占, 安全库存, 库存流水).
"""
