namespace BaloyiBank.Generator;

/// <summary>Headers the generator puts on every record, besides content-type and W3C trace context.</summary>
public static class GeneratorHeaders
{
    /// <summary>The record's sequence number in the generated stream (0, 1, 2, …), decimal.</summary>
    public const string Sequence = "bb-seq";

    /// <summary>A short fingerprint of every stream-shaping setting (<see cref="StreamSettings.Fingerprint"/>).</summary>
    public const string Fingerprint = "bb-gen";

    /// <summary>The settings in full (<see cref="StreamSettings.Canonical"/>), on the record with sequence 0 only.</summary>
    public const string Settings = "bb-gen-settings";
}
