using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Ledger;

/// <summary>One measured point of a volume curve: what the strongest attack read after the cloud saw this many tokens.</summary>
public sealed record VolumePoint(long Tokens, double ContentRecovered, double? DistinctIdentifiers);

/// <summary>
/// The default exposure budget of one configuration, taken from the privacy report (docs/privacy-report.json): the
/// volume of traffic under one key at which the strongest measured attack reads <see cref="Threshold"/> (3 %) of the
/// content tokens, with the curve it comes from. Written by <c>noir privacy budget-from-report</c> beside the model
/// or the demo bundle (exposure-budget.json), read by the sidecar; an explicit budget setting overrides it.
/// The number is what the report says for the named setting, whatever it is: re-measure, then write it again.
/// Keys with k INDVocab tables per token (homophonic, the default for new keys) face a different curve from one-table
/// keys, so each k has its own file (<see cref="FileNameFor"/>); keys whose k has none take the one-table budget,
/// the smaller (one table is the weakest configuration measured).
/// </summary>
public sealed record MeasuredBudget
{
    public const string FileName = "exposure-budget.json", Format = "noir-exposure-budget/1";

    /// <summary>The budget file for keys with <paramref name="homophones"/> tables per token: exposure-budget.json for
    /// one table, exposure-budget-k16.json for 16.</summary>
    public static string FileNameFor(int homophones) => homophones <= 1 ? FileName : $"exposure-budget-k{homophones}.json";
    public const double DefaultThreshold = 0.03;

    /// <summary>The report's setting this budget is for (e.g. "demo", "eps1-untuned", or the report's default).</summary>
    public required string Setting { get; init; }
    /// <summary>The INDVocab tables per token of the keys the setting measured (1: the paper's one table).</summary>
    public int Homophones { get; init; } = 1;
    public required double Threshold { get; init; }
    /// <summary>The budget: tokens under one key for the key's whole life.</summary>
    public required long Tokens { get; init; }
    /// <summary>False when no measured volume reached the threshold: the budget is then the largest volume measured,
    /// a floor on the true crossing point, not the crossing itself.</summary>
    public required bool Reached { get; init; }
    /// <summary>Other levels of the report (e.g. 10 %, 50 %) and the volume that reaches them (null: never reached).</summary>
    public required IReadOnlyDictionary<double, long?> OtherLevels { get; init; }
    public required IReadOnlyList<VolumePoint> Curve { get; init; }
    /// <summary>SHA-256 of the report file the number came from, and its model.</summary>
    public required string ReportSha256 { get; init; }
    public string? Model { get; init; }

    public ExposureBudget ToBudget(BudgetAction atLimit) => new(Tokens, BudgetPeriod.Key, atLimit);

    /// <summary>What crossing the budget means, in one sentence, from the curve.</summary>
    public string Meaning()
    {
        var first = Curve.MinBy(p => p.Tokens);
        bool atFirstPoint = Reached && first is not null && first.Tokens == Tokens && first.ContentRecovered >= Threshold;
        string crossing = atFirstPoint
            ? $"at the smallest volume measured, {Tokens:N0} tokens sent under one key, the strongest measured attack already reads {first!.ContentRecovered:P1} of the content tokens (identifiers, strings, numbers), so {Threshold:P0} is passed at or before it"
            : Reached
            ? $"after {Tokens:N0} tokens sent under one key, the strongest measured attack reads {Threshold:P0} of the content tokens (identifiers, strings, numbers)"
            : $"no measured volume up to {Tokens:N0} tokens under one key let the strongest attack read {Threshold:P0} of the content tokens; past it the curve is not measured";
        var later = OtherLevels.Where(l => l.Value != null).OrderBy(l => l.Key).Select(l => $"{l.Key:P0} at {l.Value:N0}").ToList();
        return crossing + (later.Count > 0 ? $" ({string.Join(", ", later)})" : "") + $"; measured on the '{Setting}' setting of the privacy report";
    }

    public JsonObject ToJson() => new()
    {
        ["format"] = Format, ["setting"] = Setting, ["homophones"] = Homophones, ["threshold"] = Threshold, ["tokens"] = Tokens, ["reached"] = Reached,
        ["other_levels"] = new JsonObject(OtherLevels.OrderBy(l => l.Key).Select(l => KeyValuePair.Create(Level(l.Key), (JsonNode?)JsonValue.Create(l.Value)))),
        ["curve"] = new JsonArray(Curve.Select(p => (JsonNode)new JsonObject
        {
            ["tokens"] = p.Tokens, ["content_recovered"] = p.ContentRecovered, ["distinct_identifiers"] = p.DistinctIdentifiers,
        }).ToArray()),
        ["report_sha256"] = ReportSha256, ["model"] = Model,
    };

    public void Save(string path) =>
        SecureFiles.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    static string Level(double l) => l.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads a budget file; anything malformed is refused with a message that names the file and the field.</summary>
    public static MeasuredBudget Load(string path)
    {
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new FormatException("it is empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{path} is not a measured exposure budget ({e.Message}); write it again with noir privacy budget-from-report");
        }
        T Field<T>(string name)
        {
            try { return o[name] is { } n ? n.GetValue<T>() : throw new FormatException("missing"); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new FormatException($"{path}: field '{name}' is missing or not a {typeof(T).Name}; write it again with noir privacy budget-from-report");
            }
        }
        if (Field<string>("format") != Format) throw new FormatException($"{path} has format '{o["format"]}', not {Format}");
        long tokens = Field<long>("tokens");
        double threshold = Field<double>("threshold");
        if (tokens <= 0) throw new FormatException($"{path}: tokens must be positive, not {tokens}");
        if (threshold is <= 0 or >= 1) throw new FormatException($"{path}: threshold must be a share between 0 and 1, not {threshold}");
        var curve = (o["curve"] as JsonArray ?? throw new FormatException($"{path}: no curve")).Select(n => new VolumePoint(
            n!["tokens"]!.GetValue<long>(), n["content_recovered"]!.GetValue<double>(), n["distinct_identifiers"]?.GetValue<double>())).ToList();
        var levels = (o["other_levels"] as JsonObject ?? new JsonObject()).ToDictionary(
            kv => double.Parse(kv.Key, CultureInfo.InvariantCulture), kv => kv.Value?.GetValue<long?>());
        return new MeasuredBudget
        {
            Setting = Field<string>("setting"), Homophones = o["homophones"] is { } k ? k.GetValue<int>() : 1, Threshold = threshold, Tokens = tokens, Reached = Field<bool>("reached"),
            OtherLevels = levels, Curve = curve, ReportSha256 = Field<string>("report_sha256"), Model = (string?)o["model"],
        };
    }

    /// <summary>
    /// The measured budget for a key set: demo keys take the demo bundle's (<paramref name="demoBundleFolder"/>, the file for their tables), never
    /// the one for private keys; private keys take the first in <paramref name="folders"/> (their own folder, then
    /// the model's), in each folder the file for their number of tables, else the one-table file. Null when there is none.
    /// </summary>
    public static (MeasuredBudget Budget, string Path)? ForKeys(KeyMetadata keys, string? demoBundleFolder, params string?[] folders) =>
        Find(keys.Homophones, keys.Demo ? new[] { demoBundleFolder } : folders);

    /// <summary>The first budget file in these folders (in order) for keys with <paramref name="homophones"/> tables per
    /// token, falling back in each folder to the one-table file; null when none has one.</summary>
    public static (MeasuredBudget Budget, string Path)? Find(int homophones, params string?[] folders)
    {
        foreach (var folder in folders)
        {
            if (folder == null) continue;
            foreach (var tables in new[] { homophones, 1 }.Distinct())
            {
                string path = Path.Combine(folder, FileNameFor(tables));
                if (!File.Exists(path)) continue;
                var budget = Load(path);
                // A file measured for other keys than its name says is refused, never used: it could be less conservative.
                if (budget.Homophones != tables)
                    throw new FormatException($"{path} holds a budget measured for keys with {budget.Homophones} tables, but its name is for {tables}; write it again with noir privacy budget-from-report --homophones {tables}");
                return (budget, path);
            }
        }
        return null;
    }
}
