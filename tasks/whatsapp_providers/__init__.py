"""WhatsApp providers: the message (:mod:`.message`), declarative provider definitions with small
body builders (:mod:`.spec`, :mod:`.meta_shaped`, :mod:`.vendors`), one engine (:mod:`.engine`) and
the registry (:mod:`.registry`)."""
