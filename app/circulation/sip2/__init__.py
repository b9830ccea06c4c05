"""SIP2 (3M Standard Interchange Protocol 2.00) for kiosks, sorters and door controllers.

``protocol`` parses and formats messages (pure), ``handlers`` translates them to the circulation
services, ``server`` is the asyncio TCP server and ``cli`` the ``flask sip2`` commands.
"""
