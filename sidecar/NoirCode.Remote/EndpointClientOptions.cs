namespace NoirCode.Remote;

/// <summary>How the client reaches the endpoint(s).</summary>
public sealed record EndpointClientOptions
{
    /// <summary>Tried in order; on failure the next one, with the session's history replayed.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }
    /// <summary>From NOIR_API_KEY or an owner-only file (<see cref="ApiKeySource"/>), never from the command line.</summary>
    public string? ApiKey { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Attempts per request, across endpoints, before giving up.</summary>
    public int MaxAttempts { get; init; } = 6;
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);
    public Protocol.WireDtype ReplyDtype { get; init; } = Protocol.WireDtype.Float16;
    public int MaxMessageBytes { get; init; } = 32 << 20;
    /// <summary>
    /// Allow http:// to a host that is not loopback (--allow-cleartext, the editor's allowCleartextEndpoint): anyone on
    /// the network path sees the hidden states. The API key is never sent over it, even then.
    /// </summary>
    public bool AllowCleartext { get; init; }
    /// <summary>Which of the tenant's adapters the endpoint runs and trains for this client (<see cref="TenantAdapterId"/>).</summary>
    public string AdapterId { get; init; } = "";

    /// <summary>
    /// The retry budget when an editor is waiting: retries after 0.1, 0.2 and 0.4 s, so a dead endpoint is reported in
    /// about 0.7 s (the next request tries again) instead of the batch default of about three seconds.
    /// </summary>
    public EndpointClientOptions Interactive() =>
        this with { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(400), ConnectTimeout = TimeSpan.FromSeconds(2) };

    /// <summary>Cleartext to another machine: the traffic and a Bearer key would cross a network unencrypted.</summary>
    public static bool IsCleartextRemote(Uri endpoint) => endpoint.Scheme == Uri.UriSchemeHttp && !endpoint.IsLoopback;

    /// <summary>On this machine: loopback, or a unix socket (<see cref="UnixSocketEndpoint"/>); nothing crosses a network.</summary>
    public static bool IsLocal(Uri endpoint) => endpoint.IsLoopback || UnixSocketEndpoint.Is(endpoint);

    /// <summary>Refuses cleartext endpoints off loopback unless <see cref="AllowCleartext"/>: before anything is sent.</summary>
    public void Validate()
    {
        foreach (var e in Endpoints) CheckCleartext(e, AllowCleartext);
    }

    public static void CheckCleartext(Uri endpoint, bool allowCleartext)
    {
        if (IsCleartextRemote(endpoint) && !allowCleartext)
            throw new ArgumentException($"{endpoint} is cleartext (http://) to another machine: use https://, or allow it explicitly " +
                "(--allow-cleartext, the editor's noircode.allowCleartextEndpoint); the API key is never sent over cleartext");
    }

    /// <summary>Comma-separated endpoint addresses: http://, https://, or unix:/path/to/socket.</summary>
    public static IReadOnlyList<Uri> ParseList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToArray();

    static Uri Parse(string address)
    {
        if (address.StartsWith(UnixSocketEndpoint.Scheme + ":", StringComparison.Ordinal))
            return UnixSocketEndpoint.AddressOf(address[(UnixSocketEndpoint.Scheme.Length + 1)..]);
        return Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")
            ? uri : throw new ArgumentException($"'{address}' is not an http://, https:// or unix:/path endpoint address");
    }
}
