class VaultKeyError(RuntimeError):
    pass


class BackendUnavailable(VaultKeyError):
    pass
