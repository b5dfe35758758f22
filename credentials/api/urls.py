from django.urls import re_path
from rest_framework.routers import SimpleRouter

from credentials.api.views import CredentialViewSet, SendRequestView

router = SimpleRouter(trailing_slash=False)
router.trailing_slash = "/?"  # accept paths with and without the trailing slash
router.register("credentials", CredentialViewSet, basename="credential")

urlpatterns = [re_path(r"^send-request/?$", SendRequestView.as_view(), name="send-request"), *router.urls]
