namespace BaloyiBank.Aggregator;

/// <summary>Slot lookups by the characters a Parquet reader hands out, so a reader of silver makes no string per row.</summary>
public sealed partial class GoldFold
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _accountLookup;

    public GoldFold() => _accountLookup = _accountIndex.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// <see cref="EncodeAccount(string, string)"/> by the id's characters (a string is made only for an account new to the
    /// fold). <paramref name="provisional"/>: the account has no opening and got its currency from this call, so a reader
    /// may still lower it to the batch's smallest (<see cref="LowerProvisionalCurrency"/>), as a GROUP BY's min would.
    /// </summary>
    internal int EncodeAccount(ReadOnlySpan<char> accountId, string currency, out bool provisional)
    {
        var index = _accountLookup.TryGetValue(accountId, out var known) ? known : AccountSlot(accountId.ToString());
        ref var account = ref _accounts[index];
        provisional = account.Currency is null;
        account.Currency ??= Intern(currency);
        return index;
    }

    /// <summary>Sets the currency of an account without an opening to <paramref name="currency"/> when that sorts first.</summary>
    internal void LowerProvisionalCurrency(int account, string currency)
    {
        ref var state = ref _accounts[account];
        if (!state.HasReference && string.CompareOrdinal(currency, state.Currency) < 0)
        {
            state.Currency = Intern(currency);
        }
    }

    /// <summary>The slot of an account the fold holds, by its id's characters; throws when gold does not hold it.</summary>
    internal int AccountSlotOf(ReadOnlySpan<char> accountId) =>
        _accountLookup.TryGetValue(accountId, out var slot) ? slot
            : throw new InvalidOperationException($"Gold is inconsistent with silver: silver has transactions of account {accountId}, which account_balances does not hold.");

    /// <summary>The slot of a daily bucket the fold holds; throws when gold does not hold it.</summary>
    internal int BucketSlotOf(in DailyKey key) =>
        _bucketIndex.TryGetValue(key, out var slot) ? slot
            : throw new InvalidOperationException($"Gold is inconsistent with silver: silver has transactions in bucket {key}, which daily_transaction_summary does not hold.");
}
