"""The provider's email claims: a user's email is verified when the user is in the group `email-verified`."""

from oauth2_provider.oauth2_validators import OAuth2Validator

VERIFIED_GROUP = "email-verified"


class EmailClaimsValidator(OAuth2Validator):
    def get_additional_claims(self, request):
        user = request.user
        return {"email": user.email, "email_verified": user.groups.filter(name=VERIFIED_GROUP).exists()}
