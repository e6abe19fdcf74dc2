"""Catalog: categories, brands, product types and attributes, products (SPU) and SKUs, media,
the listing workflow with its compliance checks, and the storefront read API.

The front door grows with the services; see the module docstrings under ``service/``.
Depends on: core, identity (audit). Glossary: CONTEXT.md (商品, SPU, SKU, 类目, 品牌, 上架审核).
"""
