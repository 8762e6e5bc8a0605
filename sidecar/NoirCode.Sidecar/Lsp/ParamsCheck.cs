using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Required parts of a request's parameters. JSON deserialisation leaves a missing or null field null even where
/// the LSP type says it cannot be; these turn that into an InvalidParams error instead of a NullReferenceException.
/// </summary>
public static class ParamsCheck
{
    public const int InvalidParams = -32602;

    public static T Require<T>(T? value, string name) where T : class =>
        value ?? throw new LocalRpcException($"invalid params: {name} is required") { ErrorCode = InvalidParams };

    public static Position Valid(Position? p, string name)
    {
        Require(p, name);
        if (p!.Line < 0 || p.Character < 0) throw new LocalRpcException($"invalid params: {name} must not be negative") { ErrorCode = InvalidParams };
        return p;
    }

    public static Range Valid(Range? r, string name) => new(Valid(Require(r, name).Start, name + ".start"), Valid(r!.End, name + ".end"));
}
