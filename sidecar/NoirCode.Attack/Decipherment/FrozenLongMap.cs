namespace NoirCode.Attack.Decipherment;

/// <summary>
/// A read-only map from non-negative long keys to values, open addressing with linear probing at most half full:
/// the trigram model's counts are looked up billions of times by the decipherer, so a look-up here has no comparer
/// call, one multiply for the hash, and keys and values in flat arrays (its speed against
/// <see cref="Dictionary{TKey,TValue}"/> was not measured on its own; the whole decipherer's 3–5× is in docs/privacy.md).
/// </summary>
public sealed class FrozenLongMap<T> where T : struct
{
    const long Empty = -1;
    readonly long[] _keys;
    readonly T[] _values;
    readonly int _shift;
    readonly int _mask;

    public int Count { get; }

    public FrozenLongMap(IEnumerable<KeyValuePair<long, T>> entries, int count)
    {
        int capacity = 16;
        while (capacity < 2L * count) capacity *= 2;
        _mask = capacity - 1;
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
        _keys = new long[capacity];
        Array.Fill(_keys, Empty);
        _values = new T[capacity];
        foreach (var (key, value) in entries)
        {
            if (key < 0) throw new ArgumentOutOfRangeException(nameof(entries), "keys are non-negative");
            int i = Slot(key);
            while (_keys[i] != Empty && _keys[i] != key) i = (i + 1) & _mask;
            if (_keys[i] == Empty) Count++;
            _keys[i] = key; _values[i] = value;
        }
    }

    public static FrozenLongMap<T> From(Dictionary<long, T> source) => new(source, source.Count);

    // Fibonacci hashing: the top bits of key × 2^64/φ spread consecutive keys over the table.
    int Slot(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> _shift);

    public bool TryGetValue(long key, out T value)
    {
        for (int i = Slot(key); ; i = (i + 1) & _mask)
        {
            long k = _keys[i];
            if (k == key) { value = _values[i]; return true; }
            if (k == Empty) { value = default; return false; }
        }
    }

    public T GetValueOrDefault(long key) => TryGetValue(key, out var v) ? v : default;
}
