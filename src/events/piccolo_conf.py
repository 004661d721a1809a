"""Piccolo's configuration: the engine from DATABASE_URL and the project's one app.

Start-up code rebinds DB through events.db.bind(); this default serves Piccolo's own CLI
(e.g. `piccolo migrations new events --auto`).
"""

from piccolo.conf.apps import AppRegistry

from events.config import load_settings
from events.db import create_engine

DB = create_engine(load_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["events.piccolo_app"])
