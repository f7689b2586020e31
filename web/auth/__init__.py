"""Signing in: who the person is (a provider proves it), mapped onto one employee (a Principal).

Local passwords are one provider. The OA single sign-on providers (DingTalk, WeCom, Feishu
OAuth) come in as more providers: each proves an identity in its own way and maps it onto the
same employee through ``engine.services.accounts`` (``principal_for_external``). Whatever the
provider, the session then holds only the employee code; the person is loaded again on every
request, so someone disabled in the data dictionary is signed out at once.
"""
