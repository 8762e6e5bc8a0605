namespace NoirCode.Attack.Attacks;

/// <summary>One sample's labels as the two solves of <see cref="GradientLabelRecovery"/> name them (head indices;
/// -1: "no label").</summary>
public sealed record RecoveredLabels(int[] BackSubstitution, int[] Direction);
