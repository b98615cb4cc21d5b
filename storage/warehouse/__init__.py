"""The data warehouse (NĐ 45/2020 Kho quản lý dữ liệu điện tử): stored once, searched, shared, audited."""

from storage.warehouse.core import Link, SimulatedCrash, Warehouse
from storage.warehouse.search import DocumentHit, SearchQuery, search

__all__ = ["DocumentHit", "Link", "SearchQuery", "SimulatedCrash", "Warehouse", "search"]
