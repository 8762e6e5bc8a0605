using System.Text;

namespace NoirCode.Sidecar.Lsp;

/// <summary>Reads and writes LSP base-protocol frames ("Content-Length: N" headers, a blank line, N bytes).</summary>
public sealed class LspFraming(Stream input)
{
    public const int MaxMessageBytes = 16 << 20;

    /// <summary>The next frame's body; null at end of input; an empty array for a frame with a bad header or an oversized body.</summary>
    public async Task<byte[]?> ReadAsync()
    {
        int? length = null;
        bool sawHeader = false;
        while (true)
        {
            string? line = await ReadLineAsync();
            if (line == null) return null;
            if (line.Length == 0) { if (sawHeader) break; continue; }
            sawHeader = true;
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && int.TryParse(line[(colon + 1)..].Trim(), out int n)) length = n;
        }
        if (length is not int size || size < 0) return Array.Empty<byte>();
        if (size > MaxMessageBytes) { await SkipAsync(size); return Array.Empty<byte>(); }
        var body = new byte[size];
        await input.ReadExactlyAsync(body);
        return body;
    }

    public static byte[] Frame(byte[] body) => Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n").Concat(body).ToArray();

    async Task SkipAsync(long count)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            int read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)));
            if (read == 0) throw new IOException("input ended inside a message");
            count -= read;
        }
    }

    async Task<string?> ReadLineAsync()
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int read = await input.ReadAsync(one);
            if (read == 0) return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
            if (one[0] == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            if (bytes.Count > 8192) return ""; // not a header line: end the header here
            bytes.Add(one[0]);
        }
    }
}
