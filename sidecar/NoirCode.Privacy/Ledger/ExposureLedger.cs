using System.Globalization;
using System.Text;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Ledger;

/// <summary>
/// What has been sent to the cloud, per UTC day, workspace and key: the record behind the status bar and the
/// exposure budget. Per user, shared by every process of that user.
///
/// Durability: each charge (or reservation of a block of tokens before they are sent, see
/// <see cref="ExposureReservation"/>) is one checksummed line appended to that day's journal and fsynced before
/// <see cref="Charge"/> returns, under an exclusive lock. A line cut short by a kill -9 fails its checksum and
/// counts for nothing, and the next append starts on a fresh line: so an acknowledged charge is never lost and
/// no charge is counted twice. Past days are folded into summary.json (written aside, then renamed); a journal
/// whose day the summary already holds is ignored and removed, so a crash mid-compaction double-counts nothing.
/// Workspaces are recorded as salted hashes of their paths, never as paths.
/// Budget checks (<see cref="ReserveWithin"/>, <see cref="Charge"/> with a budget) read the key's use and record the
/// charge under one hold of the lock: the check is exact across processes.
/// </summary>
public sealed class ExposureLedger
{
    const string LockFile = "ledger.lock", JournalPrefix = "journal-";
    public string Folder { get; }

    public ExposureLedger(string folder)
    {
        Folder = folder;
        SecureFiles.CreateFolder(folder);
        Compact(); // keeps reads short: only today's journal stays line by line
    }

    /// <summary>$NOIR_LEDGER_DIR, else $XDG_DATA_HOME/noircode/ledger, else ~/.local/share/noircode/ledger.</summary>
    public static string DefaultFolder()
    {
        if (Environment.GetEnvironmentVariable("NOIR_LEDGER_DIR") is { Length: > 0 } explicitDir) return explicitDir;
        string data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "noircode", "ledger");
    }

    /// <summary>Records a send. Durable when it returns.</summary>
    /// <param name="within">when given, the charge is refused (<see cref="ExposureBudgetExceededException"/>, nothing
    /// recorded) unless the key's use in the budget's period plus these tokens stays within its limit: checked and
    /// recorded under the ledger lock, so concurrent writers (two editor windows) cannot overshoot together</param>
    public void Charge(string workspaceId, string keyId, long tokens, long bytes, DateTimeOffset? at = null, ExposureBudget? within = null)
    {
        if (tokens < 0 || bytes < 0) throw new ArgumentOutOfRangeException(nameof(tokens));
        Check(workspaceId); Check(keyId);
        var now = at ?? DateTimeOffset.UtcNow;
        using var _ = Lock();
        if (within != null) AllowedUnlocked(within, keyId, now, tokens, tokens);
        AppendUnlocked(now, $"v1 {Guid.NewGuid():N} {now.ToUnixTimeMilliseconds()} {workspaceId} {keyId} {tokens} {bytes}");
    }

    /// <summary>
    /// Charges a block of tokens and bytes before they are sent (durable when it returns), for sends to consume
    /// without an fsync each; <see cref="ExposureReservation.Settle"/> records the true count.
    /// </summary>
    public ExposureReservation Reserve(string workspaceId, string keyId, long tokens, long bytes, DateTimeOffset? at = null)
    {
        if (tokens <= 0 || bytes < 0) throw new ArgumentOutOfRangeException(nameof(tokens));
        Check(workspaceId); Check(keyId);
        var now = at ?? DateTimeOffset.UtcNow;
        using var _ = Lock();
        return ReserveUnlocked(workspaceId, keyId, tokens, bytes, now);
    }

    /// <summary>
    /// Reserves between <paramref name="minTokens"/> and <paramref name="maxTokens"/> tokens, as many as the budget
    /// has left, or refuses (<see cref="ExposureBudgetExceededException"/>, nothing recorded) when not even
    /// <paramref name="minTokens"/> fit: the exact check used + tokens ≤ limit, read and recorded under one hold of
    /// the ledger lock, so no other process can spend the same tokens in between.
    /// </summary>
    /// <param name="bytesFor">the bytes to reserve for a block of that many tokens</param>
    public ExposureReservation ReserveWithin(ExposureBudget budget, string workspaceId, string keyId, long minTokens, long maxTokens,
        Func<long, long> bytesFor, DateTimeOffset? at = null)
    {
        if (minTokens <= 0 || maxTokens < minTokens) throw new ArgumentOutOfRangeException(nameof(minTokens));
        Check(workspaceId); Check(keyId);
        var now = at ?? DateTimeOffset.UtcNow;
        using var _ = Lock();
        long tokens = AllowedUnlocked(budget, keyId, now, minTokens, maxTokens);
        return ReserveUnlocked(workspaceId, keyId, tokens, bytesFor(tokens), now);
    }

    ExposureReservation ReserveUnlocked(string workspaceId, string keyId, long tokens, long bytes, DateTimeOffset now)
    {
        string id = Guid.NewGuid().ToString("N");
        // v2: tokens, bytes and requests; a reservation counts no request until settled.
        AppendUnlocked(now, $"v2 {id} {now.ToUnixTimeMilliseconds()} {workspaceId} {keyId} {tokens} {bytes} 0");
        return new ExposureReservation(this, id, workspaceId, keyId, tokens, bytes, now);
    }

    /// <summary>Under the lock: how many of [min, max] tokens the budget still allows for the key, or the refusal.</summary>
    long AllowedUnlocked(ExposureBudget budget, string keyId, DateTimeOffset now, long minTokens, long maxTokens)
    {
        long used = budget.UsedIn(TotalsUnlocked(), keyId, now);
        long left = budget.TokensPerPeriod - used;
        if (minTokens > left) throw new ExposureBudgetExceededException(budget.Evaluate(used), minTokens);
        return Math.Min(maxTokens, left);
    }

    /// <summary>The correction that turns a reservation into what was sent: the unused rest back (never more), and
    /// the requests. Dated like the reservation, so both fall on the same day.</summary>
    internal void Settle(ExposureReservation r) =>
        Append(r.At, $"v2 {r.Id} {r.At.ToUnixTimeMilliseconds()} {r.WorkspaceId} {r.KeyId} {r.UsedTokens - r.Tokens} {r.UsedBytes - r.Bytes} {r.Requests}");

    /// <summary>Appends one checksummed line to the day's journal and fsyncs it, under the lock.</summary>
    void Append(DateTimeOffset now, string body)
    {
        using var _ = Lock();
        AppendUnlocked(now, body);
    }

    /// <summary>The append itself; the caller holds the lock.</summary>
    void AppendUnlocked(DateTimeOffset now, string body)
    {
        string line = JournalLines.Format(body);
        string path = JournalPath(Day(now));
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = SecureFiles.OwnerFile;
        using var fs = new FileStream(path, options);
        var prefix = "";
        if (fs.Length > 0)
        {
            fs.Seek(-1, SeekOrigin.End);
            if (fs.ReadByte() != '\n') prefix = "\n"; // a torn line from a killed writer: start afresh
        }
        fs.Seek(0, SeekOrigin.End);
        fs.Write(Encoding.ASCII.GetBytes(prefix + line));
        fs.Flush(flushToDisk: true);
    }

    /// <summary>Every recorded send, summed per (day, workspace, key).</summary>
    public IReadOnlyDictionary<(string Day, string Workspace, string Key), ExposureCount> Totals()
    {
        using var _ = Lock();
        return TotalsUnlocked();
    }

    Dictionary<(string Day, string Workspace, string Key), ExposureCount> TotalsUnlocked()
    {
        var totals = new Dictionary<(string, string, string), ExposureCount>();
        var summary = LedgerSummary.Read(Folder, out var compacted);
        foreach (var (k, v) in summary) totals[k] = v;
        foreach (var journal in Directory.GetFiles(Folder, JournalPrefix + "*.log"))
        {
            string day = Path.GetFileNameWithoutExtension(journal)[JournalPrefix.Length..];
            if (compacted.Contains(day)) continue;
            foreach (var ((ws, key), count) in JournalTotals(journal))
                totals[(day, ws, key)] = totals.GetValueOrDefault((day, ws, key)) + count;
        }
        return totals;
    }

    /// <summary>A journal as last read by this process: its first bytes (which file it is), how far it was read, and its totals.</summary>
    sealed record JournalRead(byte[] Head, long Offset, Dictionary<(string Workspace, string Key), ExposureCount> Totals);
    readonly Dictionary<string, JournalRead> _journalReads = new();

    /// <summary>
    /// A journal's totals. Journals only grow, so only what was appended since this process last read it is parsed:
    /// the exact budget check reads the ledger before every reservation, and a day's journal can hold thousands of lines.
    /// Complete lines only: a torn tail is parsed (and refused) once the next append has ended it.
    /// </summary>
    Dictionary<(string Workspace, string Key), ExposureCount> JournalTotals(string path)
    {
        lock (_journalReads)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var head = new byte[Math.Min(64, fs.Length)];
            fs.ReadExactly(head);
            if (!_journalReads.TryGetValue(path, out var read) || fs.Length < read.Offset || !head.AsSpan(0, Math.Min(head.Length, read.Head.Length)).SequenceEqual(read.Head.AsSpan(0, Math.Min(head.Length, read.Head.Length))))
                read = new JournalRead(head, 0, new()); // new, or another file under the same name: read it whole
            if (fs.Length == read.Offset) return read.Totals;
            var tail = new byte[fs.Length - read.Offset];
            fs.Seek(read.Offset, SeekOrigin.Begin);
            fs.ReadExactly(tail);
            int complete = Array.LastIndexOf(tail, (byte)'\n') + 1;
            var totals = new Dictionary<(string Workspace, string Key), ExposureCount>(read.Totals);
            foreach (var (ws, key, count) in JournalLines.Parse(Encoding.ASCII.GetString(tail, 0, complete)))
                totals[(ws, key)] = totals.GetValueOrDefault((ws, key)) + count;
            _journalReads[path] = new JournalRead(head, read.Offset + complete, totals);
            return totals;
        }
    }

    public ExposureCount Sum(Func<(string Day, string Workspace, string Key), bool> filter) =>
        Totals().Where(kv => filter(kv.Key)).Aggregate(default(ExposureCount), (a, kv) => a + kv.Value);

    /// <summary>Folds the journals of days before <paramref name="today"/> into summary.json.</summary>
    public void Compact(DateTimeOffset? today = null)
    {
        string todayKey = Day(today ?? DateTimeOffset.UtcNow);
        using var _ = Lock();
        var summary = LedgerSummary.Read(Folder, out var compacted);
        var folded = new List<string>();
        foreach (var journal in Directory.GetFiles(Folder, JournalPrefix + "*.log").Order())
        {
            string day = Path.GetFileNameWithoutExtension(journal)[JournalPrefix.Length..];
            if (string.CompareOrdinal(day, todayKey) >= 0) continue;
            if (!compacted.Contains(day))
            {
                foreach (var (ws, key, count) in JournalLines.Parse(File.ReadAllText(journal)))
                    summary[(day, ws, key)] = summary.GetValueOrDefault((day, ws, key)) + count;
                compacted.Add(day);
            }
            folded.Add(journal);
        }
        if (folded.Count == 0) return;
        LedgerSummary.Write(Folder, summary, compacted);
        foreach (var journal in folded) File.Delete(journal); // a crash before this leaves journals the summary ignores
    }

    /// <summary>An exclusive advisory lock shared by every process using this ledger folder.</summary>
    IDisposable Lock()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try { return new FileStream(Path.Combine(Folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(2); }
        }
    }

    string JournalPath(string day) => Path.Combine(Folder, JournalPrefix + day + ".log");
    public static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    static void Check(string id)
    {
        if (id.Length == 0 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
            throw new ArgumentException($"ledger ids are short ASCII names, not '{id}'");
    }
}
