"""Flask extensions, created unbound and bound to the app in the factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_security import Security
from flask_wtf.csrf import CSRFProtect

babel = Babel()
#: Figures worked out for pages, kept until the database changes (``web.figures``).
cache = Cache()
csrf = CSRFProtect()
migrate = Migrate()
security = Security()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
