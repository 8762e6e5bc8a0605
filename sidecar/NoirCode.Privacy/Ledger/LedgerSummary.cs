using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Ledger;

/// <summary>summary.json: the totals of past days, folded out of their journals by <see cref="ExposureLedger.Compact"/>.</summary>
internal static class LedgerSummary
{
    const string FileName = "summary.json";

    /// <summary>The folded totals per (day, workspace, key), and which days they hold; empty when there is no summary yet.</summary>
    public static Dictionary<(string, string, string), ExposureCount> Read(string folder, out HashSet<string> compactedDays)
    {
        var result = new Dictionary<(string, string, string), ExposureCount>();
        compactedDays = new HashSet<string>();
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return result;
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var d in o["compacted_days"]!.AsArray()) compactedDays.Add((string)d!);
        foreach (var row in o["rows"]!.AsArray())
            result[((string)row!["day"]!, (string)row["workspace"]!, (string)row["key"]!)] =
                new ExposureCount((long)row["tokens"]!, (long)row["bytes"]!, (long)row["requests"]!);
        return result;
    }

    /// <summary>Writes the summary aside and renames it into place, so a crash leaves the old one or the new one whole.</summary>
    public static void Write(string folder, Dictionary<(string Day, string Ws, string Key), ExposureCount> rows, HashSet<string> compacted)
    {
        var o = new JsonObject
        {
            ["format"] = "noir-ledger/1",
            ["compacted_days"] = new JsonArray(compacted.Order().Select(d => (JsonNode)d).ToArray()),
            ["rows"] = new JsonArray(rows.OrderBy(r => r.Key).Select(r => (JsonNode)new JsonObject
            {
                ["day"] = r.Key.Day, ["workspace"] = r.Key.Ws, ["key"] = r.Key.Key,
                ["tokens"] = r.Value.Tokens, ["bytes"] = r.Value.Bytes, ["requests"] = r.Value.Requests,
            }).ToArray()),
        };
        string path = Path.Combine(folder, FileName), tmp = path + ".tmp";
        File.Delete(tmp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = SecureFiles.OwnerFile;
        using (var fs = new FileStream(tmp, options))
        {
            fs.Write(Encoding.UTF8.GetBytes(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
