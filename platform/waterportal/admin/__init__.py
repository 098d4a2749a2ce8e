"""The city staff console (``/admin`` on each city's own host).

Blueprint in :mod:`waterportal.admin.blueprint`, routes in ``*_views.py``; its templates
are rendered by bare names (``admin/...``) that no city or theme folder can override.
"""
