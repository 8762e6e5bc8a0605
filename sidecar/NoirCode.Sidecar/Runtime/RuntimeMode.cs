namespace NoirCode.Sidecar.Runtime;

/// <summary>Where the model runs: split (client shards here, the middle blocks on an endpoint) or wholly here.</summary>
public enum RuntimeMode
{
    Split,
    Local,
}
