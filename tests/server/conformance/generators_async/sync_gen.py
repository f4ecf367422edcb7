from promptflow import tool


@tool
def sync_gen(n: int):
    for i in range(n):
        yield f"s{i} "
