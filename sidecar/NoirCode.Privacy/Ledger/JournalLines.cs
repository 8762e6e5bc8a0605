using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NoirCode.Privacy.Ledger;

/// <summary>
/// The journal's line format: "v1 id unix-ms workspace key tokens bytes checksum" (one send) or "v2 id unix-ms
/// workspace key tokens bytes requests checksum" (a reservation, or its settlement as a correction), each ended by the
/// first 12 hex digits of the SHA-256 of the rest.
/// </summary>
internal static class JournalLines
{
    /// <summary>The line for <paramref name="body"/>, checksum and newline included.</summary>
    public static string Format(string body) => body + " " + Checksum(body) + "\n";

    /// <summary>The counted lines of a journal's text: a line whose checksum fails (torn by a kill, or damaged) was never
    /// acknowledged and counts for nothing.</summary>
    public static IEnumerable<(string Workspace, string Key, ExposureCount Count)> Parse(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ');
            // v1: one send (tokens, bytes); v2: a reservation or its settlement (tokens, bytes, requests).
            int fields = parts.Length > 0 && parts[0] == "v2" ? 9 : 8;
            if (parts.Length != fields || parts[0] is not ("v1" or "v2")) continue;
            string body = string.Join(' ', parts[..(fields - 1)]);
            if (Checksum(body) != parts[fields - 1]) continue; // torn or damaged: never acknowledged
            long requests = fields == 9 ? long.Parse(parts[7], CultureInfo.InvariantCulture) : 1;
            yield return (parts[3], parts[4], new ExposureCount(long.Parse(parts[5], CultureInfo.InvariantCulture), long.Parse(parts[6], CultureInfo.InvariantCulture), requests));
        }
    }

    static string Checksum(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(body)))[..12];
}
