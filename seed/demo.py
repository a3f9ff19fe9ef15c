def generate(dossiers: int, seed: int) -> str:
    raise NotImplementedError
