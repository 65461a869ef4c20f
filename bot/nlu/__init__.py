"""Natural-language understanding: from a message to a ranked list of intents with confidences."""

# The intent of messages the bot does not cover: never answered with an FAQ entry.
OUT_OF_SCOPE = "out_of_scope"
