namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Recent completions by the text around the cursor (LRU, in memory only: completions contain code and are
/// never written to disk). A hit costs no model call and no exposure.
/// </summary>
public sealed class CompletionCache(int capacity = 256)
{
    readonly LinkedList<(string Key, string? Value, string? Empty)> _order = new();
    readonly Dictionary<string, LinkedListNode<(string Key, string? Value, string? Empty)>> _map = new();

    /// <summary>The key: the end of the prefix and the start of the suffix, which decide the completion.</summary>
    public static string Key(CompletionContext c) =>
        c.Prefix[Math.Max(0, c.Prefix.Length - 2000)..] + "\u0001" + c.Suffix[..Math.Min(c.Suffix.Length, 500)];

    public bool TryGet(string key, out string? value) => TryGet(key, out value, out _);

    /// <param name="emptyReason">why a cached empty answer was empty (<see cref="EmptyReason"/>)</param>
    public bool TryGet(string key, out string? value, out string? emptyReason)
    {
        lock (_order)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                emptyReason = node.Value.Empty;
                return true;
            }
            value = null;
            emptyReason = null;
            return false;
        }
    }

    public void Put(string key, string? value, string? emptyReason = null)
    {
        lock (_order)
        {
            if (_map.Remove(key, out var old)) _order.Remove(old);
            _map[key] = _order.AddFirst((key, value, emptyReason));
            while (_map.Count > capacity) { _map.Remove(_order.Last!.Value.Key); _order.RemoveLast(); }
        }
    }

    public int Count { get { lock (_order) return _map.Count; } }
}
