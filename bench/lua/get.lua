-- Sends the same GET on every request, authenticated with the token in EASEL_TOKEN.
wrk.headers["X-Auth-Token"] = os.getenv("EASEL_TOKEN") or ""
