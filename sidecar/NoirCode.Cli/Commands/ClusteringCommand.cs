using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Volume;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir attack clustering</c>: does a candidate set-up's wire still cluster by token? (purity against split
/// depth, noise and homophones, on the attacker's own simulation).</summary>
public static class ClusteringCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the public model (whole model folder)");
        var split = CommonOptions.Split();
        var residualNoise = new Option<double>("--residual-noise") { Description = "σ of the per-occurrence noise the client adds", DefaultValueFactory = _ => 0 };
        var homophones = new Option<int>("--homophones") { Description = "rows per token of the simulated keys", DefaultValueFactory = _ => 1 };
        var tokens = new Option<long>("--tokens") { Description = "public tokens sent through the simulated client", DefaultValueFactory = _ => 30_000 };
        var json = CommonOptions.Json();
        var cmd = new Command("clustering", "How well a set-up's wire clusters by token (split depth, residual noise, homophones), on the attacker's simulation")
            { model, split, residualNoise, homophones, tokens, json };
        cmd.SetAction(r =>
        {
            double sigma = r.GetValue(residualNoise) is >= 0 and var s && !double.IsInfinity(s) ? s : throw new ArgumentException("--residual-noise must be a number ≥ 0");
            int k = r.GetValue(homophones) is >= 1 and <= Privacy.Keys.PrivacyKeys.MaxHomophones and var h ? h
                : throw new ArgumentException($"--homophones must be 1 to {Privacy.Keys.PrivacyKeys.MaxHomophones}");
            var g = WireGeometry.Measure(r.GetValue(model)!, CommonOptions.ParseSplit(r.GetValue(split)), sigma, k,
                AttackCommand.Positive(r.GetValue(tokens), "--tokens"), VolumeRun.Thresholds);
            JsonObject Q(double[] v) => new(WireGeometry.Quantiles.Select(q => KeyValuePair.Create(q.ToString(CultureInfo.InvariantCulture), (JsonNode?)Math.Round(WireGeometry.Quantile(v, q), 3))));
            var o = new JsonObject
            {
                ["split"] = $"{g.Split.EncoderBlocks},{g.Split.DecoderBlocks}", ["residual_noise"] = g.ResidualNoise, ["homophones"] = g.Homophones, ["tokens"] = g.Tokens,
                ["threshold"] = g.Clustering.Threshold, ["refinement"] = g.Clustering.RefineIterations, ["symbols_per_token"] = g.Clustering.SymbolsPerToken,
                ["purity"] = Math.Round(g.Clustering.Purity, 4), ["completeness"] = Math.Round(g.Clustering.Completeness, 4),
                ["cosine_same_token"] = Q(g.SameToken), ["cosine_other_token"] = Q(g.OtherToken), ["cosine_to_own_mean"] = Q(g.ToOwnMean),
            };
            if (r.GetValue(json)) CliJson.Print(o);
            else
            {
                string Row(double[] v) => string.Join(" / ", WireGeometry.Quantiles.Select(q => WireGeometry.Quantile(v, q).ToString("F2", CultureInfo.InvariantCulture)));
                Console.WriteLine($"split {o["split"]}, residual noise σ {sigma}, {k} row(s) per token, {g.Tokens:N0} tokens");
                Console.WriteLine($"clustering: threshold {g.Clustering.Threshold}, refinement {g.Clustering.RefineIterations}, purity {g.Clustering.Purity:F3}, completeness {g.Clustering.Completeness:F3}");
                Console.WriteLine($"cosine quantiles {string.Join(" / ", WireGeometry.Quantiles)}:");
                Console.WriteLine($"  two occurrences of one token: {Row(g.SameToken)}");
                Console.WriteLine($"  two different tokens:         {Row(g.OtherToken)}");
                Console.WriteLine($"  one occurrence, own mean:     {Row(g.ToOwnMean)}");
            }
            return 0;
        });
        return cmd;
    }
}
