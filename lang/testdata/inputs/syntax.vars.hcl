name = "unterminated
