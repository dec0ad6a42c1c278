using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace BaloyiBank.Lake.Blob;

/// <summary>What <see cref="BlobLakeBenchmark"/> measures; the defaults are the figures the README quotes.</summary>
public sealed record BlobLakeBenchmarkOptions
{
    /// <summary>Lake folder the benchmark writes under and removes afterwards.</summary>
    public string Prefix { get; init; } = "_bench/";

    /// <summary>Large-object sizes whose put/get throughput is measured.</summary>
    public IReadOnlyList<int> ObjectSizes { get; init; } = [1024 * 1024, 64 * 1024 * 1024];

    /// <summary>Bytes moved per large-object size (at least one object).</summary>
    public long BytesPerSize { get; init; } = 256L * 1024 * 1024;

    /// <summary>Size of the small objects (commit-sized).</summary>
    public int SmallObjectBytes { get; init; } = 4 * 1024;

    /// <summary>Small objects per in-flight level.</summary>
    public int SmallObjects { get; init; } = 2_000;

    /// <summary>Concurrency levels of the small-object runs.</summary>
    public IReadOnlyList<int> InFlight { get; init; } = [1, 4, 16];

    /// <summary>Local folder for the file round trip of objects above 16 MiB (temp when null).</summary>
    public string? ScratchDirectory { get; init; }
}

/// <summary>One measured figure.</summary>
/// <param name="Operation">put, get, put-if-absent.</param>
/// <param name="ObjectBytes">Size of each object.</param>
/// <param name="InFlight">Operations in flight at once.</param>
public sealed record BlobLakeFigure(string Operation, long ObjectBytes, int InFlight, int Objects, TimeSpan Elapsed)
{
    public double MiBPerSecond => ObjectBytes * (double)Objects / (1024.0 * 1024.0) / Elapsed.TotalSeconds;

    public double OperationsPerSecond => Objects / Elapsed.TotalSeconds;
}

/// <summary>The figures of one run, printable as a table.</summary>
public sealed record BlobLakeBenchmarkResult(string Location, IReadOnlyList<BlobLakeFigure> Throughput, IReadOnlyList<BlobLakeFigure> SmallObjects)
{
    public override string ToString()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"Lake benchmark against {Location}\n");
        text.Append("  large objects        size      objects   MiB/s\n");
        foreach (var f in Throughput)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {f.Operation,-16} {Size(f.ObjectBytes),10} {f.Objects,10} {f.MiBPerSecond,9:F1}\n");
        }

        text.Append("  small objects        size  in flight   objects     ops/s\n");
        foreach (var f in SmallObjects)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {f.Operation,-16} {Size(f.ObjectBytes),10} {f.InFlight,9} {f.Objects,9} {f.OperationsPerSecond,9:F0}\n");
        }

        return text.ToString();
    }

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB");
}

/// <summary>
/// Put/get throughput for large objects (1 MiB in memory; 64 MiB as files, through block upload and streaming
/// download) and small-object put-if-absent/get rates at several operations in flight, against any lake store
/// (meant for the blob lake: <c>baloyi bench lake</c>). Writes under <see cref="BlobLakeBenchmarkOptions.Prefix"/>
/// and deletes what it wrote.
/// </summary>
public static class BlobLakeBenchmark
{
    public static async Task<BlobLakeBenchmarkResult> RunAsync(
        ILakeStore store, BlobLakeBenchmarkOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new BlobLakeBenchmarkOptions();
        var prefix = options.Prefix.EndsWith('/') ? options.Prefix : options.Prefix + "/";
        LakePath.ValidatePrefix(prefix);
        var run = prefix + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8] + "/";
        var scratch = Directory.CreateDirectory(Path.Combine(options.ScratchDirectory ?? Path.GetTempPath(), "baloyi-lake-bench-" + Guid.NewGuid().ToString("N"))).FullName;
        List<BlobLakeFigure> throughput = [];
        List<BlobLakeFigure> small = [];
        try
        {
            foreach (var size in options.ObjectSizes)
            {
                var count = (int)Math.Max(1, options.BytesPerSize / size);
                var content = new byte[size];
                new Random(size).NextBytes(content);
                var asFile = size > 16 * 1024 * 1024;
                var upload = Path.Combine(scratch, "upload.bin");
                if (asFile)
                {
                    await File.WriteAllBytesAsync(upload, content, cancellationToken).ConfigureAwait(false);
                }

                var paths = Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{run}large-{size}/{i:D5}.bin")).ToList();
                var watch = Stopwatch.StartNew();
                foreach (var path in paths)
                {
                    await (asFile ? store.PutFileAsync(path, upload, cancellationToken) : store.PutAsync(path, content, cancellationToken)).ConfigureAwait(false);
                }

                throughput.Add(new(asFile ? "put (file)" : "put", size, 1, count, watch.Elapsed));
                progress?.Report($"put {count} x {size} B: {throughput[^1].MiBPerSecond:F1} MiB/s");

                watch.Restart();
                foreach (var path in paths)
                {
                    if (asFile)
                    {
                        await store.GetFileAsync(path, Path.Combine(scratch, "download.bin"), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await store.GetAsync(path, cancellationToken).ConfigureAwait(false);
                    }
                }

                throughput.Add(new(asFile ? "get (file)" : "get", size, 1, count, watch.Elapsed));
                progress?.Report($"get {count} x {size} B: {throughput[^1].MiBPerSecond:F1} MiB/s");
            }

            var payload = new byte[options.SmallObjectBytes];
            new Random(7).NextBytes(payload);
            foreach (var inFlight in options.InFlight)
            {
                var paths = Enumerable.Range(0, options.SmallObjects)
                    .Select(i => string.Create(CultureInfo.InvariantCulture, $"{run}small-{inFlight}/_delta_log/{i:D20}.json")).ToList();
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = inFlight, CancellationToken = cancellationToken };
                var watch = Stopwatch.StartNew();
                await Parallel.ForEachAsync(paths, parallel, async (path, ct) => await store.PutIfAbsentAsync(path, payload, ct).ConfigureAwait(false)).ConfigureAwait(false);
                small.Add(new("put-if-absent", payload.Length, inFlight, paths.Count, watch.Elapsed));
                progress?.Report($"put-if-absent x{inFlight}: {small[^1].OperationsPerSecond:F0} ops/s");

                watch.Restart();
                await Parallel.ForEachAsync(paths, parallel, async (path, ct) => await store.GetAsync(path, ct).ConfigureAwait(false)).ConfigureAwait(false);
                small.Add(new("get", payload.Length, inFlight, paths.Count, watch.Elapsed));
                progress?.Report($"get x{inFlight}: {small[^1].OperationsPerSecond:F0} ops/s");
            }
        }
        finally
        {
            var leftovers = new List<string>();
            await foreach (var item in store.ListAsync(run, CancellationToken.None).ConfigureAwait(false))
            {
                leftovers.Add(item.Path);
            }

            await Parallel.ForEachAsync(leftovers, new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (path, ct) => await store.DeleteAsync(path, ct).ConfigureAwait(false)).ConfigureAwait(false);
            Directory.Delete(scratch, recursive: true);
        }

        return new BlobLakeBenchmarkResult(store.Location, throughput, small);
    }
}
