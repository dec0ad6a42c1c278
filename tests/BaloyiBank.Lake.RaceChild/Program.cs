using System.Globalization;
using System.Text;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.Lake.RaceChild;

// Usage: RaceChild <root> <names> <racer> [<prefix>]. Prints "ready", waits for a line on stdin so every
// racer starts together, then put-if-absents race/NNNN for each name and prints "<name> <outcome>".
// <root> is a folder (folder lake) or an Azurite container URL such as
// http://127.0.0.1:10000/devstoreaccount1/race-1 (blob lake, devstoreaccount1's published key), and <prefix> the
// blob lake's folder inside the container.
if (args.Length is not (3 or 4))
{
    await Console.Error.WriteLineAsync("usage: BaloyiBank.Lake.RaceChild <root> <names> <racer> [<prefix>]");
    return 2;
}

ILakeStore store = args[0].StartsWith("http://", StringComparison.Ordinal) || args[0].StartsWith("https://", StringComparison.Ordinal)
    ? new BlobLakeStore(BlobLakeOptions.ForAzurite(args[0][..args[0].LastIndexOf('/')], args[0][(args[0].LastIndexOf('/') + 1)..], args.Length == 4 ? args[3] : ""))
    : new FolderLakeStore(args[0]);
var names = int.Parse(args[1], CultureInfo.InvariantCulture);
var racer = args[2];

Console.WriteLine("ready");
_ = Console.ReadLine();
for (var i = 0; i < names; i++)
{
    var path = RaceNames.Path(i);
    var outcome = await store.PutIfAbsentAsync(path, Encoding.UTF8.GetBytes(RaceNames.Content(racer, i)));
    Console.WriteLine($"{path} {outcome}");
}

return 0;
