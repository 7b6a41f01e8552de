"""/docs without a CDN: Swagger UI's files come from the fastapi-offline package (GPU servers
are often offline), and the page starts it from a script file, since the CSP allows no inline
script. The OpenAPI schema names the token, so Swagger UI's "Authorize" button takes it."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from vidmatte.api.security import OPEN_API_PATHS

ASSETS = Path(fastapi_offline.__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vidmatte API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

# validatorUrl null: Swagger UI would otherwise send the schema to an outside validator.
START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
});
"""


UNAUTHORISED = {
    "description": "Missing or wrong access token",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def mount_docs(app: FastAPI) -> None:
    """Serve /docs from this server alone (create the app with docs_url=None)."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/docs/start.js", include_in_schema=False)
    def start() -> Response:
        return Response(START, media_type="text/javascript")

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The server's access token: the one given with --token / "
                    "VIDMATTE_TOKEN, else the data dir's (`vidmatte token` prints it).",
                }
            }
            for path, operations in schema["paths"].items():
                if path.startswith("/api/") and path not in OPEN_API_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"token": []}]
                        operation["responses"].setdefault("401", UNAUTHORISED)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
