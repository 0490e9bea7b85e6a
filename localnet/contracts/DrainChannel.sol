// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Minimal ERC-20 surface the channel needs.
interface IERC20Like {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title DrainChannel stand-in for tests and the local network.
/// @notice Behaves like the DRAIN payment channel contracts as far as a validator can see:
/// the same events, custom errors, channel id rule and EIP-712 vouchers. With feeBps = 0 it is
/// V1-like; with a fee it is V2-like (FeePaid is logged just before ChannelClaimed, and the
/// ChannelClaimed amount is the payout before the fee). Written for hs58, not copied.
contract DrainChannel {
    // Packed into three slots (amounts fit 96 bits: 7.9e22 USDC); `channels()` returns the
    // DRAIN field order and widths. Fewer slots keep anvil's per-block cost down in long tests.
    struct Channel {
        address consumer;
        uint96 claimed;
        address provider;
        uint96 deposit;
        uint256 expiry;
    }

    IERC20Like public immutable usdc;
    uint256 public immutable feeBps;
    address public immutable feeRecipient;

    mapping(bytes32 => Channel) private _channels;
    mapping(address => uint256) public nonces;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 amount,uint256 nonce)");
    bytes32 private constant CLOSE_TYPEHASH = keccak256("CloseAuthorization(bytes32 channelId,uint256 finalAmount)");
    // Upper bound of a canonical (low-s) secp256k1 signature's s.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    event ChannelOpened(
        bytes32 indexed channelId, address indexed consumer, address indexed provider, uint256 deposit, uint256 expiry
    );
    event ChannelClaimed(bytes32 indexed channelId, address indexed provider, uint256 amount);
    event ChannelClosed(bytes32 indexed channelId, address indexed consumer, uint256 refund);
    event FeePaid(bytes32 indexed channelId, address indexed recipient, uint256 amount);

    error ChannelNotFound();
    error NotProvider();
    error NotConsumer();
    error NotExpired();
    error InvalidSignature();
    error InvalidAmount();
    error TransferFailed();
    error ChannelExists();
    error ZeroAddress();

    constructor(address usdc_, uint256 feeBps_, address feeRecipient_) {
        if (usdc_ == address(0)) revert ZeroAddress();
        if (feeBps_ > 10_000) revert InvalidAmount();
        if (feeBps_ > 0 && feeRecipient_ == address(0)) revert ZeroAddress();
        usdc = IERC20Like(usdc_);
        feeBps = feeBps_;
        feeRecipient = feeRecipient_;
    }

    function channels(bytes32 channelId)
        external
        view
        returns (address consumer, address provider, uint256 deposit, uint256 claimed, uint256 expiry)
    {
        Channel memory ch = _channels[channelId];
        return (ch.consumer, ch.provider, ch.deposit, ch.claimed, ch.expiry);
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("DrainChannel"), keccak256("1"), block.chainid, address(this)));
    }

    /// @notice Locks `amount` USDC for `provider` until now + `duration`.
    function open(address provider, uint256 amount, uint256 duration) external returns (bytes32 channelId) {
        if (provider == address(0)) revert ZeroAddress();
        if (amount == 0 || amount > type(uint96).max) revert InvalidAmount();
        channelId = keccak256(abi.encodePacked(msg.sender, provider, block.timestamp, nonces[msg.sender]++));
        if (_channels[channelId].consumer != address(0)) revert ChannelExists();
        uint256 expiry = block.timestamp + duration;
        _channels[channelId] = Channel(msg.sender, 0, provider, uint96(amount), expiry);
        if (!usdc.transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        emit ChannelOpened(channelId, msg.sender, provider, amount, expiry);
    }

    /// @notice The provider cashes a voucher: `amount` is the cumulative total the consumer signed.
    function claim(bytes32 channelId, uint256 amount, uint256 nonce, bytes calldata signature) external {
        Channel storage ch = _channels[channelId];
        if (ch.consumer == address(0)) revert ChannelNotFound();
        if (msg.sender != ch.provider) revert NotProvider();
        if (amount <= ch.claimed || amount > ch.deposit) revert InvalidAmount();
        bytes32 digest = _typedDigest(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, amount, nonce)));
        if (_recover(digest, signature) != ch.consumer) revert InvalidSignature();
        uint256 payout = amount - ch.claimed;
        ch.claimed = uint96(amount); // amount <= deposit < 2^96
        _pay(channelId, ch.provider, payout);
    }

    /// @notice The consumer takes back what was not claimed, once the channel expired.
    function close(bytes32 channelId) external {
        Channel memory ch = _channels[channelId];
        if (ch.consumer == address(0)) revert ChannelNotFound();
        if (msg.sender != ch.consumer) revert NotConsumer();
        if (block.timestamp < ch.expiry) revert NotExpired();
        delete _channels[channelId];
        uint256 refund = ch.deposit - ch.claimed;
        if (refund > 0 && !usdc.transfer(ch.consumer, refund)) revert TransferFailed();
        emit ChannelClosed(channelId, ch.consumer, refund);
    }

    /// @notice Closes at any time with the provider's signed final amount; pays the rest of it, refunds the remainder.
    function cooperativeClose(bytes32 channelId, uint256 finalAmount, bytes calldata providerSignature) external {
        Channel memory ch = _channels[channelId];
        if (ch.consumer == address(0)) revert ChannelNotFound();
        if (msg.sender != ch.consumer) revert NotConsumer();
        if (finalAmount < ch.claimed || finalAmount > ch.deposit) revert InvalidAmount();
        bytes32 digest = _typedDigest(keccak256(abi.encode(CLOSE_TYPEHASH, channelId, finalAmount)));
        if (_recover(digest, providerSignature) != ch.provider) revert InvalidSignature();
        delete _channels[channelId];
        if (finalAmount > ch.claimed) _pay(channelId, ch.provider, finalAmount - ch.claimed);
        uint256 refund = ch.deposit - finalAmount;
        if (refund > 0 && !usdc.transfer(ch.consumer, refund)) revert TransferFailed();
        emit ChannelClosed(channelId, ch.consumer, refund);
    }

    function _pay(bytes32 channelId, address provider, uint256 payout) private {
        uint256 fee = (payout * feeBps) / 10_000;
        if (fee > 0) {
            if (!usdc.transfer(feeRecipient, fee)) revert TransferFailed();
            emit FeePaid(channelId, feeRecipient, fee);
        }
        if (!usdc.transfer(provider, payout - fee)) revert TransferFailed();
        emit ChannelClaimed(channelId, provider, payout);
    }

    function _typedDigest(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_ORDER) revert InvalidSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }
}
