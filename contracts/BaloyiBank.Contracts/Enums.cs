namespace BaloyiBank.Contracts;

// Enums travel as snake_case strings (see BankEventJsonContext): stable, readable, and a
// new member is an additive change.

public enum CustomerSegment { Retail, Premier, Business, Student }

public enum AccountType { Cheque, Savings, CreditCard, Business }

public enum TransactionType { Deposit, Withdrawal, CardPurchase, TransferIn, TransferOut, Fee, Interest }

public enum Channel { Branch, Atm, Card, Online, Mobile, System }

public enum LoanProduct { Personal, Vehicle, Home, Business }

public enum MerchantCategory
{
    Groceries, Restaurants, Fuel, Transport, Travel, Utilities, Telecoms, Health,
    Clothing, Electronics, Entertainment, Education, HomeGarden, Insurance, Other,
}

public static class TransactionTypes
{
    /// <summary>True when the type adds money to the account; false when it takes money out.</summary>
    public static bool IsCredit(TransactionType type) => type switch
    {
        TransactionType.Deposit or TransactionType.TransferIn or TransactionType.Interest => true,
        TransactionType.Withdrawal or TransactionType.CardPurchase or TransactionType.TransferOut or TransactionType.Fee => false,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown transaction type."),
    };
}
