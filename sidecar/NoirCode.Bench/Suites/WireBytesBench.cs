using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using NoirCode.Protocol;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Wire bytes per generated token for each wire dtype, counted on the TCP connection (so HTTP/2 and gRPC
/// framing are included) and split into payload and framing; and the held-out loss through the real endpoint
/// with each dtype, against the unsplit model.
/// </summary>
public static class WireBytesBench
{
    static readonly WireDtype[] Dtypes = { WireDtype.Float32, WireDtype.Float16, WireDtype.Bfloat16, WireDtype.Int8Blockwise };

    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int tokens = ctx.Quick ? 32 : 128, chunks = ctx.Quick ? 4 : 24, chunkLength = ctx.Quick ? 256 : 512;
        var full = CausalLM.Load(ctx.Model);
        var client = ClientModel.Load(ctx.ClientShard);
        int hidden = client.Config.HiddenSize;
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        using var endpoint = EndpointProcess.Start(ctx.CloudShard);
        var corpus = client.Tokenizer.Encode(string.Join("\n\n", HeldOutCode.Texts())).ToArray();
        var prompt = corpus.Take(64).ToList();
        // Held-out windows spread over the corpus.
        var windows = Enumerable.Range(0, chunks).Select(i => corpus.Skip((int)((long)i * (corpus.Length - chunkLength) / chunks)).Take(chunkLength).ToArray()).ToArray();
        double unsplitLoss = windows.Average(w => Loss(w, ids => { using var p = arange(ids.shape[1]); return full.Forward(ids, p, null, lastOnly: false); }));

        var rows = new List<string>();
        var figures = new JsonObject { ["hidden_size"] = hidden, ["wire_loss_unsplit"] = Math.Round(unsplitLoss, 5) };
        var bytesPerToken = new List<double>();
        foreach (var dtype in Dtypes)
        {
            using var proxy = new LatencyProxy(endpoint.Address, TimeSpan.Zero);
            var options = new EndpointClientOptions { Endpoints = new[] { proxy.Address }, ReplyDtype = dtype };
            // Bytes per decode step: generate, then count only the one-token steps.
            using (var session = new SplitSession(client, new RemoteMiddleSession(options, new EgressGuard(hidden, dtype), fingerprint, client.Config.MaxPositions, hidden)))
            {
                var logits = session.Append(prompt);
                logits = session.Append(new[] { Sampler.ArgMax(logits, client.Tokenizer.IdCount) }); // the connection's setup is behind us
                Thread.Sleep(200);
                proxy.ResetCounters();
                for (int t = 0; t < tokens; t++) logits = session.Append(new[] { Sampler.ArgMax(logits, client.Tokenizer.IdCount) });
            }
            Thread.Sleep(200); // let the last frames through the relay before reading the counters
            var (up, down) = proxy.Bytes;
            double perToken = (up + down) / (double)tokens;
            long payload = 2 * HiddenStateCodec.PayloadBytes(dtype, hidden); // one hidden vector each way
            bytesPerToken.Add(perToken);

            // Held-out loss through the endpoint: encoder here, middle there (this dtype both ways), decoder here.
            using var remote = new RemoteMiddleSession(options with { Endpoints = new[] { endpoint.Address } }, new EgressGuard(hidden, dtype), fingerprint, client.Config.MaxPositions, hidden);
            double loss = windows.Average(w => Loss(w, ids =>
            {
                using var p = arange(ids.shape[1]);
                using var encoded = client.FirstBlocks(ids, p, null);
                using var middle = remote.Forward(encoded, p);
                remote.Truncate(0);
                return client.LastBlocksAndHead(middle, p, null, lastOnly: false);
            }));
            string name = dtype switch { WireDtype.Float32 => "fp32", WireDtype.Float16 => "fp16", WireDtype.Bfloat16 => "bf16", _ => "int8 (blockwise, 64)" };
            string key = dtype switch { WireDtype.Float32 => "fp32", WireDtype.Float16 => "fp16", WireDtype.Bfloat16 => "bf16", _ => "int8" };
            rows.Add($"| {name} | {perToken:F1} | {up / (double)tokens:F1} / {down / (double)tokens:F1} | {payload} | {perToken - payload:F1} | {loss:F5} | {loss - unsplitLoss:+0.00000;-0.00000;0} |");
            figures[$"bytes_per_token_{key}"] = Math.Round(perToken, 1);
            figures[$"payload_bytes_per_token_{key}"] = payload;
            figures[$"framing_bytes_per_token_{key}"] = Math.Round(perToken - payload, 1);
            figures[$"wire_loss_{key}"] = Math.Round(loss, 5);
            figures[$"wire_loss_delta_{key}"] = Math.Round(loss - unsplitLoss, 6);
            Console.Error.WriteLine($"{name}: {perToken:F1} B/token (payload {payload}), held-out loss {loss:F5}");
        }
        Charts.GroupedBars(Charts.PathFor(ctx.Repo, "wire"), $"Wire bytes per generated token (hidden {hidden}, both directions)", "bytes per token",
            new[] { "fp32", "fp16", "bf16", "int8" }, new[] { "measured on TCP", "hidden-state payload" },
            new[] { bytesPerToken.ToArray(), Dtypes.Select(d => (double)(2 * HiddenStateCodec.PayloadBytes(d, hidden))).ToArray() });
        string md = $"""
            ## 3. Wire bytes per generated token, and quality per wire dtype

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). The bundled model (hidden size **{hidden}**), split {client.Split}, through a
            `noir cloud serve` process on loopback. Bytes are counted on the TCP connection by a relay between client and endpoint
            during {tokens} one-token decode steps after a 64-token prompt: everything, i.e. the hidden state each way plus protobuf
            fields, gRPC message prefixes, HTTP/2 frame headers, window updates and pings. Payload = 2 directions × hidden × bytes per
            value (+ one float32 scale per 64 values for int8). Held-out loss: {chunks} windows of {chunkLength} tokens of the model's held-out
            stdlib modules, each a prefill through the endpoint in that dtype both ways; unsplit loss {unsplitLoss:F5} nats/token.

            | wire dtype | bytes/token on TCP | up / down | hidden-state payload | framing | held-out loss | change vs unsplit |
            | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            fp16 carries 2 × {hidden} × 2 = {4 * hidden} bytes of hidden state per token; the rest is framing, measured above.

            ![wire bytes](benchmarks-wire.png)
            """;
        BenchReport.Write(ctx.Repo, "wire", md, figures);
    }

    /// <summary>Mean next-token cross-entropy of the window under the given forward pass (logits for every position).</summary>
    static double Loss(int[] window, Func<Tensor, Tensor> forward)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(window.Select(t => (long)t).ToArray()).unsqueeze(0);
        var logits = forward(ids)[0];
        var inputs = logits.narrow(0, 0, window.Length - 1);
        var targets = ids[0].narrow(0, 1, window.Length - 1);
        return F.cross_entropy(inputs, targets).item<float>();
    }
}
