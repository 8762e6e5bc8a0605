using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar.Lsp;
using NoirCode.Protocol;

namespace NoirCode.Bench.Suites;

/// <summary>
/// Generate Function at cloud distance, with and without speculative decoding: a body for a function signature of
/// held-out code (the language server's prompt: fill-in-the-middle around the signature, up to 700 tokens before and
/// 200 after), greedy, through a real `noir cloud serve` process behind a TCP relay that injects 0, 20, 50 and 100 ms
/// of round-trip time. Every position sent goes through the egress guard and the fsynced ledger. Part of
/// `scripts/bench decode`; `scripts/bench decode-rtt` runs it alone.
/// </summary>
public static class SpeculativeDecodeBench
{
    static readonly int[] RoundTrips = { 0, 20, 50, 100 };

    public static void Run(BenchContext ctx)
    {
        var load = new MachineLoad();
        int functions = ctx.Quick ? 3 : 6, maxTokens = ctx.Quick ? 64 : 160;
        var client = ClientModel.Load(ctx.ClientShard);
        string fingerprint = ModelFingerprint.Of(ctx.ClientShard);
        using var endpoint = EndpointProcess.Start(ctx.CloudShard);
        using var relay = new LatencyProxy(endpoint.Address, TimeSpan.Zero);
        var ledger = new ExposureLedger(ExposureLedger.DefaultFolder());
        var tokenizer = client.Tokenizer;
        var fim = tokenizer.Fim!;
        var prompts = Signatures(functions).Select(p => fim.BuildPsm(tokenizer.Encode(p.Prefix).TakeLast(700).ToList(), tokenizer.Encode(p.Suffix).Take(200).ToList())).ToList();
        var options = new SpeculationOptions();

        GenerationResult Generate(IReadOnlyList<int> prompt, int rtt, bool speculative)
        {
            relay.RoundTrip = TimeSpan.FromMilliseconds(rtt);
            var remote = new RemoteMiddleSession(new EndpointClientOptions { Endpoints = new[] { rtt == 0 ? endpoint.Address : relay.Address } },
                new EgressGuard(client.Config.HiddenSize, WireDtype.Float16, ledger), fingerprint, client.Config.MaxPositions, client.Config.HiddenSize);
            using var session = new SplitSession(client, remote);
            return TextGenerator.Generate(session, tokenizer, prompt, new GenerationOptions
            {
                MaxTokens = maxTokens, MaxSequenceLength = client.Config.MaxPositions, Speculation = speculative ? options : null,
            });
        }

        Generate(prompts[0], 0, true); // warm-up (JIT, connection), not counted
        var tokS = RoundTrips.ToDictionary(r => r, _ => (Plain: new List<double>(), Fast: new List<double>()));
        int trips = 0, accepted = 0, drafted = 0, generated = 0;
        for (int p = 0; p < prompts.Count; p++)
            foreach (int rtt in RoundTrips)
            {
                var plain = Generate(prompts[p], rtt, false);
                var fast = Generate(prompts[p], rtt, true);
                if (!plain.TokenIds.SequenceEqual(fast.TokenIds)) throw new InvalidOperationException("speculative decoding changed the output");
                tokS[rtt].Plain.Add(plain.TokenIds.Count / plain.Elapsed.TotalSeconds);
                tokS[rtt].Fast.Add(fast.TokenIds.Count / fast.Elapsed.TotalSeconds);
                if (rtt == 0)
                {
                    var s = fast.Speculation!;
                    trips += s.Trips; accepted += s.Accepted; drafted += s.Drafted; generated += fast.TokenIds.Count;
                }
                Console.Error.WriteLine($"function {p + 1}/{prompts.Count}, +{rtt} ms RTT: plain {tokS[rtt].Plain[^1]:F1} tok/s, speculative {tokS[rtt].Fast[^1]:F1} tok/s ({fast.Speculation!.TokensPerTrip:F2} tokens per trip)");
            }
        double perTrip = (double)(trips + accepted) / trips, extra = (double)(drafted - accepted) / (trips + accepted);

        // The privacy cost of drafting: how draft length and the shortest n-gram trade round trips against positions sent in vain.
        var settings = new[] { (8, 1, true), (8, 2, true), (16, 1, true), (8, 1, false), (8, 2, false), (4, 1, false), (4, 2, false), (2, 1, false), (2, 2, false) };
        var sweep = settings.Select(x =>
        {
            var (draft, minNgram, adaptive) = x;
            var o = options with { DraftTokens = draft, MinNgram = Math.Min(minNgram, options.MaxNgram), Adaptive = adaptive };
            int t = 0, a = 0, dr = 0;
            foreach (var prompt in prompts)
            {
                relay.RoundTrip = TimeSpan.Zero;
                var remote = new RemoteMiddleSession(new EndpointClientOptions { Endpoints = new[] { endpoint.Address } },
                    new EgressGuard(client.Config.HiddenSize, WireDtype.Float16, ledger), fingerprint, client.Config.MaxPositions, client.Config.HiddenSize);
                using var session = new SplitSession(client, remote);
                var s = TextGenerator.Generate(session, tokenizer, prompt, new GenerationOptions { MaxTokens = maxTokens, MaxSequenceLength = client.Config.MaxPositions, Speculation = o }).Speculation!;
                t += s.Trips; a += s.Accepted; dr += s.Drafted;
            }
            return $"| {draft} | {(adaptive ? "adaptive" : "fixed")} | {minNgram} | {(double)(t + a) / t:F2} | {(double)(dr - a) / (t + a):F2} |";
        }).ToList();
        var rows = RoundTrips.Select(r =>
        {
            double plain = Percentiles.Median(tokS[r].Plain), fast = Percentiles.Median(tokS[r].Fast);
            return $"| {(r == 0 ? "loopback" : $"+{r} ms")} | {plain:F1} | {fast:F1} | {fast / plain:F2}× | {perTrip:F2} |";
        });
        string md = $"""
            ## 1b. Speculative split decoding at cloud distance (Generate Function)

            Machine: {BenchReport.Machine()}. {load.Describe()}
            Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). Bundled model split {client.Split}, no keys, fp16, a
            `noir cloud serve` child process behind a TCP relay that delays each chunk by RTT/2 each way (loopback: no relay). {prompts.Count}
            function signatures of held-out code with their bodies removed, the language server's Generate Function prompt
            (fill-in-the-middle, ≤ 700 tokens before, ≤ 200 after), greedy, up to {maxTokens} tokens; plain (one token per round trip) and speculative (prompt lookup:
            the last ≤ {options.MaxNgram} tokens looked up in the prompt and the text so far, ≤ {options.DraftTokens} drafted tokens
            verified per round trip, {(options.Adaptive ? "the draft length adapted to what was accepted" : "always the most")}) interleaved per function. Tokens/s over the whole request, prefill included (median of
            functions). Speculative output was checked equal to plain output token for token.

            | RTT | plain tok/s | speculative tok/s | speed-up | tokens per round trip |
            | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            **Tokens per round trip: {perTrip:F2}** ({generated} tokens in {trips} verification round trips after the prefill: the model's
            own token plus {(double)accepted / trips:F2} accepted draft tokens per trip; target ≥ 2). **Generate Function at +50 ms
            RTT: {Percentiles.Median(tokS[50].Fast):F1} tok/s** (target ≥ 15). Privacy cost: rejected drafts cross the wire and are
            charged like any other token, {extra:F2} extra positions sent per token kept ({drafted - accepted} of {drafted} drafted
            positions rejected). Caveat: the bundled 8 M model's greedy bodies repeat themselves more than a larger model's
            would, which flatters prompt lookup; expect fewer tokens per round trip from a real model.

            Draft settings (same functions, loopback; the rows differ only in how much is drafted): tokens kept per round trip
            against positions sent in vain per token kept.

            | most draft tokens | draft length | shortest n-gram | tokens per round trip | extra sent per token |
            | --- | --- | --- | --- | --- |
            {string.Join("\n", sweep)}
            """;
        BenchReport.Write(ctx.Repo, "decode-rtt", md, new JsonObject
        {
            ["accepted_tokens_per_trip"] = Math.Round(perTrip, 3),
            ["speculative_extra_sent_per_token"] = Math.Round(extra, 3),
            ["generate_tok_s_rtt50"] = Math.Round(Percentiles.Median(tokS[50].Fast), 2),
            ["generate_tok_s_rtt50_plain"] = Math.Round(Percentiles.Median(tokS[50].Plain), 2),
            ["generate_tok_s_rtt0"] = Math.Round(Percentiles.Median(tokS[0].Fast), 2),
            ["generate_tok_s_rtt20"] = Math.Round(Percentiles.Median(tokS[20].Fast), 2),
            ["generate_tok_s_rtt100"] = Math.Round(Percentiles.Median(tokS[100].Fast), 2),
        });
    }

    /// <summary>Generate Function's prompt (<see cref="FunctionGenerator.PlanFor"/>) at the first function
    /// signatures of different held-out files, with the function's body removed.</summary>
    static IEnumerable<FunctionGenerator.Plan> Signatures(int count)
    {
        int found = 0;
        foreach (var text in HeldOutCode.Texts())
        {
            int at = text.IndexOf("\n    def ", StringComparison.Ordinal);
            if (at < 0) at = text.IndexOf("\ndef ", StringComparison.Ordinal);
            if (at < 0) continue;
            int end = text.IndexOf(":\n", at, StringComparison.Ordinal);
            if (end < 0 || FunctionGenerator.PlanFor(text, end + 2, null) is not { } plan) continue;
            // The body to write is not there yet: drop it from the suffix, or the draft could copy it.
            var after = plan.Suffix.Split('\n');
            int body = 0;
            while (body < after.Length && (after[body].Trim().Length == 0 || after[body].StartsWith(plan.BodyIndent, StringComparison.Ordinal))) body++;
            yield return plan with { Suffix = "\n" + string.Join('\n', after.Skip(body)) };
            if (++found == count) yield break;
        }
    }
}
