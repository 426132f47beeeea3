"""The checklist catalog on a hub: XLSForm uploads as drafts, their preview, publishing and retiring versions."""
