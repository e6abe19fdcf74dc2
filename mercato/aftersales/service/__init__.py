"""After-sales use cases, exposed through ``mercato.aftersales``."""
