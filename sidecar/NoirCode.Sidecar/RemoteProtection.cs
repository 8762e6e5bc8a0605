using NoirCode.Privacy.Keys;

namespace NoirCode.Sidecar;

/// <summary>
/// Traffic that is not protected must not run as if it were. To an endpoint on another machine: no privacy keys
/// (ε = ∞: the hidden states come from the public embedding, and the project's own inversion reads about 97 % of
/// their tokens) only when the user allowed it explicitly; the shipped demo keys (public, so they protect nothing)
/// never. On loopback or a unix socket both stay allowed: nothing crosses a network (the embedded default runs the demo keys there).
/// </summary>
public static class RemoteProtection
{
    public static void Check(IReadOnlyList<Uri> endpoints, KeyMetadata? keys, bool allowUnprotected)
    {
        if (endpoints.FirstOrDefault(e => !Remote.EndpointClientOptions.IsLocal(e)) is not { } remote) return;
        if (keys is { Demo: true })
            throw new ArgumentException($"the demo keys are public, so they protect nothing from {remote.GetLeftPart(UriPartial.Authority)}, " +
                "which is another machine; make keys of your own (noir keygen) for a remote endpoint");
        if (keys == null && !allowUnprotected)
            throw new ArgumentException($"no privacy keys (ε = ∞) with the endpoint {remote.GetLeftPart(UriPartial.Authority)}, which is another machine: " +
                "without keys it can invert most tokens of what is sent. Set keysFolder (noir keygen), or allow it explicitly " +
                "(noircode.allowUnprotectedEndpoint, --allow-unprotected)");
    }
}
