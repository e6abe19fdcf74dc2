"""Registry of every table, for Alembic's env.py and test set-up (imports each domain's models)."""

from mercato.aftersales import models as _aftersales  # noqa: F401
from mercato.cart import models as _cart  # noqa: F401
from mercato.catalog import models as _catalog  # noqa: F401
from mercato.content import models as _content  # noqa: F401
from mercato.core import events as _core_events  # noqa: F401 - core_outbox_event, core_event_delivery
from mercato.core import idempotency as _core_idempotency  # noqa: F401 - core_idempotency_key
from mercato.core.db import Base
from mercato.fulfillment import models as _fulfillment  # noqa: F401
from mercato.identity import models as _identity  # noqa: F401
from mercato.inventory import models as _inventory  # noqa: F401
from mercato.notify import models as _notify  # noqa: F401
from mercato.orders import models as _orders  # noqa: F401
from mercato.payments import models as _payments  # noqa: F401
from mercato.pricing import models as _pricing  # noqa: F401
from mercato.promotions import models as _promotions  # noqa: F401
from mercato.shop import models as _shop  # noqa: F401
from mercato.social import models as _social  # noqa: F401

metadata = Base.metadata

#: The package that owns each table prefix (checked by tests/boundaries).
OWNERS = {
    "core": "mercato.core",
    "identity": "mercato.identity",
    "catalog": "mercato.catalog",
    "inventory": "mercato.inventory",
    "cart": "mercato.cart",
    "pricing": "mercato.pricing",
    "orders": "mercato.orders",
    "payments": "mercato.payments",
    "notify": "mercato.notify",
    "fulfillment": "mercato.fulfillment",
    "aftersales": "mercato.aftersales",
    "content": "mercato.content",
    "shop": "mercato.shop",
    "promotions": "mercato.promotions",
    "social": "mercato.social",
}
