"""The server-rendered shop: home page and the customer's account area (sign-in, registration,
sessions, data export). Pages call identity's front door and render; they own no rules."""
