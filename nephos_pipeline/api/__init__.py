"""The Nephos insights service: the seed's ``/insights`` endpoints and the insights page.

``create_app(warehouse, token=..., auth_disabled=..., cors_origins=...)`` builds the ASGI
app; ``nephos serve`` runs it with uvicorn. The service only reads AI_INSIGHTS.
"""

from nephos_pipeline.api.app import create_app

__all__ = ["create_app"]
