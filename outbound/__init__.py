"""Outgoing HTTP shared by deliveries, Send Request and OAuth token fetches: SSRF guard and pooled client."""
