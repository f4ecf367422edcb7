SEPARATOR = ", "


def join_sorted(words):
    return SEPARATOR.join(sorted(words))
