using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BaloyiBank.Lake;

/// <summary>
/// One generation of a lake layer: the folder its tables live in. Generation 0 is the layer's own folder
/// (<c>silver/transactions</c>, the layout from before generations existed); generation n &gt; 0 lives at
/// <c>silver/g000n/transactions</c>.
/// </summary>
/// <param name="Layer">The layer's folder, e.g. <c>silver</c>.</param>
/// <param name="Number">The generation; 0 is the layer folder itself.</param>
public sealed record LakeGeneration(string Layer, int Number)
{
    /// <summary>The folder below which this generation's tables live.</summary>
    public string Root => LakeGenerations.RootOf(Layer, Number);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Layer} generation {Number} ({Root})");
}

/// <summary>A switch that lost a race: another switch of the layer happened since the caller read the live generation.</summary>
public sealed class LakeGenerationConflictException(string message) : InvalidOperationException(message)
{
    public LakeGenerationConflictException()
        : this("The layer's live generation changed concurrently.")
    {
    }

    public LakeGenerationConflictException(string message, Exception inner)
        : this(message + " " + inner.Message)
    {
    }
}

/// <summary>
/// Generations of lake layers, switched atomically, on nothing but the lake port's list and put-if-absent.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Below <c>&lt;layer&gt;/_generations/</c>: <c>claim-gNNNN.json</c>, one per generation number
/// handed out to a builder, and <c>switch-gNNNN.json</c>, one per generation that was made live. Both are immutable,
/// written with put-if-absent. The live generation is the highest one with a switch object; with none it is 0, the
/// layer folder itself, so lakes written before generations existed read as they always did.</para>
/// <para><b>One read.</b> Resolving is one listing of <c>&lt;layer&gt;/_generations/switch-</c>: the generation is in
/// the names; the objects' content (when, from which generation, why) is for people.</para>
/// <para><b>Atomic switch.</b> A switch is one put-if-absent of a new switch object. A reader lists either before it
/// exists (old generation) or after (new one), never a mix, because every reader takes all its tables from the one
/// root it resolved. Generation numbers only grow (claims), so a switch always goes to a higher number and the newest
/// switch is the highest name. A switch names the generation it expects to replace; if another switch came first it
/// fails with <see cref="LakeGenerationConflictException"/> (and if two raced past that check, the higher number wins
/// and the lower one removes its object and fails; a reader may have seen the lower one live in between, whole).</para>
/// <para><b>Claims.</b> A builder first claims a new generation number with put-if-absent, so two builders never write
/// the same folder; a claimed generation that is never switched to is invisible to readers.</para>
/// </remarks>
public sealed partial class LakeGenerations(ILakeStore lake)
{
    /// <summary>The folder below a layer that holds its switch and claim objects.</summary>
    public const string FolderName = "_generations";

    private const string SwitchPrefix = "switch-g";
    private const string ClaimPrefix = "claim-g";

    /// <summary>The folder of <paramref name="generation"/> of <paramref name="layer"/>: the layer itself for 0, else <c>layer/gNNNN</c>.</summary>
    public static string RootOf(string layer, int generation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(layer);
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        var trimmed = layer.TrimEnd('/');
        return generation == 0 ? trimmed : string.Create(CultureInfo.InvariantCulture, $"{trimmed}/g{generation:D4}");
    }

    /// <summary>The layer a configured root belongs to: the root without a <c>/gNNNN</c> generation suffix.</summary>
    public static string LayerOf(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return GenerationSuffix().Replace(root.TrimEnd('/'), "");
    }

    /// <summary>
    /// The live generation of the layer <paramref name="configuredRoot"/> belongs to and the folder a reader takes its
    /// tables from: the live generation's root, or at generation 0 the configured folder itself (so a root configured
    /// as it always was, or pinned to a generation by hand before any switch, reads as before). One listing.
    /// </summary>
    public async Task<(LakeGeneration Live, string Root)> ResolveRootAsync(string configuredRoot, CancellationToken cancellationToken = default)
    {
        var live = await LiveAsync(LayerOf(configuredRoot), cancellationToken).ConfigureAwait(false);
        return (live, live.Number == 0 ? configuredRoot.TrimEnd('/') : live.Root);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/g\d{4}$")]
    private static partial System.Text.RegularExpressions.Regex GenerationSuffix();

    /// <summary>The generation every reader of <paramref name="layer"/> uses now: one listing.</summary>
    public async Task<LakeGeneration> LiveAsync(string layer, CancellationToken cancellationToken = default)
    {
        var folder = Folder(layer);
        var live = 0;
        await foreach (var info in lake.ListAsync(folder + SwitchPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ParseNumber(info.Path[folder.Length..], SwitchPrefix) is { } switched)
            {
                live = Math.Max(live, switched);
            }
        }

        return new LakeGeneration(layer.TrimEnd('/'), live);
    }

    /// <summary>Every switch of the layer, oldest first: the generation, the note its object records and when it was written.</summary>
    public async Task<IReadOnlyList<LakeGenerationSwitch>> HistoryAsync(string layer, CancellationToken cancellationToken = default)
    {
        var folder = Folder(layer);
        List<LakeGenerationSwitch> history = [];
        await foreach (var info in lake.ListAsync(folder + SwitchPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ParseNumber(info.Path[folder.Length..], SwitchPrefix) is { } generation)
            {
                var content = await lake.GetAsync(info.Path, cancellationToken).ConfigureAwait(false);
                history.Add(new LakeGenerationSwitch(generation, ReadNote(content), info.LastModified));
            }
        }

        return [.. history.OrderBy(h => h.Generation)];
    }

    /// <summary>Generations claimed above the live one and never switched to (builds in progress or abandoned), with their notes.</summary>
    public async Task<IReadOnlyList<LakeGenerationSwitch>> PendingClaimsAsync(string layer, CancellationToken cancellationToken = default)
    {
        var folder = Folder(layer);
        var live = await LiveAsync(layer, cancellationToken).ConfigureAwait(false);
        List<LakeGenerationSwitch> pending = [];
        await foreach (var info in lake.ListAsync(folder + ClaimPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ParseNumber(info.Path[folder.Length..], ClaimPrefix) is { } claimed && claimed > live.Number)
            {
                pending.Add(new LakeGenerationSwitch(claimed, ReadNote(await lake.GetAsync(info.Path, cancellationToken).ConfigureAwait(false)), info.LastModified));
            }
        }

        return [.. pending.OrderBy(p => p.Generation)];
    }

    /// <summary>
    /// Hands out a generation number no one used before (above every claimed and live one), recorded with
    /// put-if-absent so that two builders racing never share one; its folder is then the caller's to fill.
    /// </summary>
    public async Task<LakeGeneration> ClaimAsync(string layer, string note, CancellationToken cancellationToken = default)
    {
        var folder = Folder(layer);
        var live = await LiveAsync(layer, cancellationToken).ConfigureAwait(false);
        var highest = live.Number;
        await foreach (var info in lake.ListAsync(folder + ClaimPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (ParseNumber(info.Path[folder.Length..], ClaimPrefix) is { } claimed)
            {
                highest = Math.Max(highest, claimed);
            }
        }

        for (var candidate = highest + 1; ; candidate++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{folder}{ClaimPrefix}{candidate:D4}.json");
            var content = Render(layer, candidate, null, note);
            if (await lake.PutIfAbsentAsync(path, content, cancellationToken).ConfigureAwait(false) == PutOutcome.Created)
            {
                return new LakeGeneration(layer.TrimEnd('/'), candidate);
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="generation"/> (a claimed number above <paramref name="expected"/>) the live one, if
    /// <paramref name="expected"/> is still live: one put-if-absent of its switch object. Throws
    /// <see cref="LakeGenerationConflictException"/> when another switch came first.
    /// </summary>
    public async Task<LakeGeneration> SwitchAsync(LakeGeneration expected, int generation, string note, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (generation <= expected.Number)
        {
            throw new ArgumentOutOfRangeException(nameof(generation), generation,
                $"A switch goes to a newer generation than the live one ({expected.Number}); claim one with ClaimAsync.");
        }

        var path = SwitchPath(expected.Layer, generation);
        var live = await LiveAsync(expected.Layer, cancellationToken).ConfigureAwait(false);
        if (live.Number != expected.Number
            || await lake.PutIfAbsentAsync(path, Render(expected.Layer, generation, expected.Number, note), cancellationToken).ConfigureAwait(false) != PutOutcome.Created)
        {
            throw Conflict(expected, generation, live);
        }

        // Two switches that both passed the check above: the higher generation is what readers take, the lower one withdraws.
        var now = await LiveAsync(expected.Layer, cancellationToken).ConfigureAwait(false);
        if (now.Number != generation)
        {
            await lake.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
            throw Conflict(expected, generation, now);
        }

        return now;
    }

    private static string SwitchPath(string layer, int generation) =>
        string.Create(CultureInfo.InvariantCulture, $"{Folder(layer)}{SwitchPrefix}{generation:D4}.json");

    private static LakeGenerationConflictException Conflict(LakeGeneration expected, int generation, LakeGeneration live) =>
        new($"Switching {expected.Layer} to generation {generation} lost a race: the live generation is no longer {expected.Number} " +
            $"but {live.Number}. Nothing was switched; see {expected.Layer}/{FolderName}/ for what the other switch did before trying again.");

    private static string Folder(string layer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(layer);
        var folder = $"{layer.TrimEnd('/')}/{FolderName}/";
        LakePath.ValidatePrefix(folder, nameof(layer));
        return folder;
    }

    private static int? ParseNumber(string name, string prefix) =>
        name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(prefix.Length, name.Length - prefix.Length - ".json".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            ? generation
            : null;

    private static byte[] Render(string layer, int generation, int? previous, string note)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("layer", layer.TrimEnd('/'));
            json.WriteNumber("generation", generation);
            json.WriteString("root", RootOf(layer, generation));
            if (previous is { } p)
            {
                json.WriteNumber("previous", p);
            }

            json.WriteString("at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("note", note);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string ReadNote(byte[]? content)
    {
        if (content is null)
        {
            return "";
        }

        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.TryGetProperty("note", out var note) ? note.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(content);
        }
    }
}

/// <summary>One switch of a layer: the generation it made live, its note and when it was written.</summary>
public sealed record LakeGenerationSwitch(int Generation, string Note, DateTimeOffset At);
