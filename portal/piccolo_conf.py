"""Piccolo's configuration module (``PICCOLO_CONF=portal.piccolo_conf``).

``DB`` is rebound by :func:`portal.db.bind` when the app starts; the value here serves the
``piccolo`` command line, used to write new migrations.
"""

from piccolo.conf.apps import AppRegistry

from portal.db import APP_MODULES, make_engine
from portal.settings import Settings

APP_REGISTRY = AppRegistry(apps=list(APP_MODULES))
DB = make_engine(Settings.from_env())
