using Grpc.Core;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>Client-side helpers: the split model's client part, sessions through an endpoint, raw protocol calls.</summary>
public static class Clients
{
    static readonly Lazy<ClientModel> SharedClient = new(() => ClientModel.Load(EndpointFixture.Client));
    static readonly Lazy<CloudShard> SharedCloud = new(() => CloudShard.Load(EndpointFixture.Cloud));
    public static ClientModel Client => SharedClient.Value;
    public static string Fingerprint => ModelFingerprint.Of(EndpointFixture.Client);

    /// <summary>Fresh privacy keys (ε 13) for the fixture's client, in memory.</summary>
    public static Privacy.Keys.PrivacyKeys FreshKeys()
    {
        var config = ModelConfig.Load(EndpointFixture.Client);
        var (embedding, _) = Privacy.Keys.PrivacyKeys.ReadEmbedding(EndpointFixture.Client, config);
        return Privacy.Keys.PrivacyKeys.Generate(embedding, config, Fingerprint, 13).Keys;
    }

    /// <summary>The fixture's client shard with an untied head under <paramref name="keys"/>, as STuning loads it.</summary>
    public static ClientModel KeyedClient(Privacy.Keys.PrivacyKeys keys)
    {
        var client = ClientModel.Load(EndpointFixture.Client, untieHead: true);
        keys.ApplyTo(client);
        return client;
    }

    /// <summary>An STuning session with <paramref name="endpoint"/>, through <paramref name="guard"/> (a float32 one when none).</summary>
    public static RemoteTrainingSession Training(Uri endpoint, EgressGuard? guard = null)
    {
        int hidden = ModelConfig.Load(EndpointFixture.Client).HiddenSize;
        return new(Options(new[] { endpoint }), guard ?? new EgressGuard(hidden, Protocol.WireDtype.Float32), Fingerprint, hidden);
    }

    public static EndpointClientOptions Options(IEnumerable<Uri> endpoints, Protocol.WireDtype dtype = Protocol.WireDtype.Float32, string? apiKey = null, int attempts = 6) =>
        new() { Endpoints = endpoints.ToArray(), ReplyDtype = dtype, ApiKey = apiKey, MaxAttempts = attempts, StepTimeout = TimeSpan.FromSeconds(30) };

    public static RemoteMiddleSession Remote(EndpointClientOptions options, EgressGuard? guard = null) =>
        new(options, guard ?? new EgressGuard(Client.Config.HiddenSize, options.ReplyDtype), Fingerprint, 256, Client.Config.HiddenSize);

    public static GenerationResult Generate(IMiddleSession middle, string prompt, int tokens = 16, Action<string>? onToken = null, ClientModel? client = null)
    {
        client ??= Client;
        using var session = new SplitSession(client, middle);
        return TextGenerator.Generate(session, client.Tokenizer, client.Tokenizer.Encode(prompt), new GenerationOptions { MaxTokens = tokens }, onToken: onToken);
    }

    public static GenerationResult GenerateLocally(string prompt, int tokens = 16) => Generate(new LocalMiddleSession(SharedCloud.Value), prompt, tokens);

    /// <summary>A raw session stream, for sending what a well-behaved client never would.</summary>
    public static AsyncDuplexStreamingCall<SessionRequest, SessionReply> RawSession(Uri address, string? apiKey = null)
    {
        var connection = new EndpointConnection(address, Options(new[] { address }, apiKey: apiKey));
        return connection.Client.Session(connection.Headers());
    }

    public static async Task<SessionReply> ExchangeAsync(AsyncDuplexStreamingCall<SessionRequest, SessionReply> call, SessionRequest request)
    {
        await call.RequestStream.WriteAsync(request);
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        return call.ResponseStream.Current;
    }

    public static SessionRequest Open(int maxLength = 64, string? fingerprint = null) =>
        new() { Open = new OpenSession { ModelFingerprint = fingerprint ?? Fingerprint, MaxLength = (uint)maxLength, ReplyDtype = Protocol.WireDtype.Float32 } };

    public static SessionRequest Forward(long start, int tokens, int hidden, float value = 0.5f) => new()
    {
        Forward = new ForwardStep
        {
            StartPosition = (ulong)start,
            Hidden = new HiddenBlock
            {
                Dtype = Protocol.WireDtype.Float32, Tokens = (uint)tokens, Hidden = (uint)hidden,
                Data = Google.Protobuf.ByteString.CopyFrom(Enumerable.Range(0, tokens * hidden).SelectMany(_ => BitConverter.GetBytes(value)).ToArray()),
            },
        },
    };
}
