"""The outbound feed to the practice management system: channels (a signed webhook, a CSV drop folder) and
the pump that sends each channel the events the store wrote, in order, at least once."""
