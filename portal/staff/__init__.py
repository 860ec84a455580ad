"""Staff pages under /staff (HTTP only)."""

from portal.staff.api_tokens import ROUTES as API_TOKEN_ROUTES
from portal.staff.auth import ROUTES as AUTH_ROUTES
from portal.staff.canned import ROUTES as CANNED_ROUTES
from portal.staff.customers import ROUTES as CUSTOMER_ROUTES
from portal.staff.dashboard import ROUTES as DASHBOARD_ROUTES
from portal.staff.forms import ROUTES as FORM_ROUTES
from portal.staff.kb import ROUTES as KB_ROUTES
from portal.staff.kb_admin import ROUTES as KB_ADMIN_ROUTES
from portal.staff.live import ROUTES as LIVE_ROUTES
from portal.staff.mail_log import ROUTES as MAIL_LOG_ROUTES
from portal.staff.orders import ROUTES as ORDER_ROUTES
from portal.staff.phone import ROUTES as PHONE_ROUTES
from portal.staff.profile import ROUTES as PROFILE_ROUTES
from portal.staff.queue import ROUTES as QUEUE_ROUTES
from portal.staff.reports import ROUTES as REPORT_ROUTES
from portal.staff.routing import ROUTES as ROUTING_ROUTES
from portal.staff.settings import ROUTES as SETTINGS_ROUTES
from portal.staff.sla import ROUTES as SLA_ROUTES
from portal.staff.surveys import ROUTES as SURVEY_ROUTES
from portal.staff.tags import ROUTES as TAG_ROUTES
from portal.staff.teams import ROUTES as TEAM_ROUTES
from portal.staff.tickets import ROUTES as TICKET_ROUTES

ROUTES = [*AUTH_ROUTES, *DASHBOARD_ROUTES, *SETTINGS_ROUTES, *SLA_ROUTES, *REPORT_ROUTES, *TEAM_ROUTES, *ROUTING_ROUTES,
          *API_TOKEN_ROUTES, *PROFILE_ROUTES,
          *MAIL_LOG_ROUTES, *ORDER_ROUTES, *KB_ROUTES, *KB_ADMIN_ROUTES,
          *QUEUE_ROUTES, *PHONE_ROUTES, *TICKET_ROUTES, *CUSTOMER_ROUTES, *TAG_ROUTES, *CANNED_ROUTES,
          *LIVE_ROUTES, *SURVEY_ROUTES, *FORM_ROUTES]
