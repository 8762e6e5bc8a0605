namespace NoirCode.Attack.Volume;

/// <summary>Where the volume attack's search starts at each volume after the first.</summary>
public enum NamingStart
{
    /// <summary>Both a fresh solve and one continued from the shorter prefix's naming; the likelier naming is kept
    /// (what a cloud that followed the traffic would do: it needs no truth to compare them).</summary>
    Best,
    /// <summary>A fresh solve at every volume, as if the cloud had seen the prefix all at once.</summary>
    Fresh,
    /// <summary>Only continued from the shorter prefix's naming (fresh at the first volume; new symbols named by public
    /// frequency): about half the cost of <see cref="Best"/>, and usually weaker at small volumes.</summary>
    Continued,
}
