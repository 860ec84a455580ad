"""Customer-facing pages (HTTP only: parse, call one service function, pick a template)."""

from portal.customer.account import ROUTES as ACCOUNT_PAGE_ROUTES
from portal.customer.accounts import ROUTES as ACCOUNT_ROUTES
from portal.customer.guest import ROUTES as GUEST_TICKET_ROUTES
from portal.customer.home import ROUTES as HOME_ROUTES
from portal.customer.orders import ROUTES as ORDER_ROUTES
from portal.customer.tickets import ROUTES as TICKET_ROUTES

ROUTES = [*HOME_ROUTES, *ACCOUNT_ROUTES, *ACCOUNT_PAGE_ROUTES, *ORDER_ROUTES, *TICKET_ROUTES,
          *GUEST_TICKET_ROUTES]
