"""The web page of `python -m deepdream serve`: Gradio, on the same engine and modes as the command line.

Needs the `web` extra (`pip install -e ".[web]"`).
"""

from deepdream.web.app import Dreams, ServerConfig, build_app, launch
from deepdream.web.engines import EngineCache

__all__ = ["Dreams", "EngineCache", "ServerConfig", "build_app", "launch"]
