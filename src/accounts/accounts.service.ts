import { EntityManager, IsNull } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { InvalidInput, NotFound } from '../errors';
import { EventBus } from '../event-bus';
import { ChangeLog } from '../feed/change-log';
import { clientId, newId } from '../ids';
import { userText } from '../user-text';
import { Account } from './account.entity';
import { generateApiKey, hashApiKey, looksLikeApiKey } from './api-key-secret';
import { ApiKeyCache } from './api-key-cache';
import { ApiKey } from './api-key.entity';

/** Who is calling: resolved from the API key of the request. */
export interface Viewer {
  accountId: string;
  apiKeyId: string;
}

function checkName(field: string, name: string, max = 200): string {
  const trimmed = userText(name).trim();
  if (trimmed.length < 1 || trimmed.length > max) {
    throw new InvalidInput(field, `"${field}" must be 1 to ${max} characters`);
  }
  return trimmed;
}

export class AccountsService {
  private readonly keys: ApiKeyCache;

  /**
   * `live` tells every process of revoked keys (through the feed) and hears of those revoked by any
   * process, so that none keeps a revoked key in its cache; the CLI needs neither.
   */
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly live?: { bus: EventBus; changes: ChangeLog },
  ) {
    this.keys = new ApiKeyCache(() => clock.now().getTime());
    live?.bus.subscribe('apiKeyRevoked', ({ apiKeyId }) => this.keys.forgetKey(apiKeyId));
  }

  /** Creates an account with its first API key; the key is returned here only. */
  async createAccount(name: string): Promise<{ account: Account; apiKey: ApiKey; key: string }> {
    const accountName = checkName('name', name);
    return this.db.writes.write(async ({ manager }) => {
      const createdAt = this.clock.now();
      const account = manager.create(Account, { id: newId('acc', createdAt.getTime()), name: accountName, createdAt });
      await manager.insert(Account, account);
      const { apiKey, key } = await this.insertKey(manager, account.id, 'default');
      return { account, apiKey, key };
    });
  }

  /** The caller behind a raw API key, or null when the key is unknown or revoked. */
  async authenticate(key: string): Promise<Viewer | null> {
    if (!looksLikeApiKey(key)) return null;
    const keyHash = hashApiKey(key);
    const cached = this.keys.get(keyHash);
    if (cached) return cached;
    // Every request is checked here before its account's limits apply: the service's own connections.
    const apiKey = await this.db.serviceReader.getRepository(ApiKey).findOne({
      where: { keyHash, revokedAt: IsNull() },
      select: ['id', 'accountId'],
    });
    if (!apiKey) return null;
    const viewer = { accountId: apiKey.accountId, apiKeyId: apiKey.id };
    this.keys.set(keyHash, viewer);
    return viewer;
  }

  async getAccount(accountId: string): Promise<Account> {
    const account = await this.db.reader.getRepository(Account).findOneBy({ id: accountId });
    if (!account) throw new NotFound('Account');
    return account;
  }

  listApiKeys(accountId: string): Promise<ApiKey[]> {
    return this.db.reader.getRepository(ApiKey).find({ where: { accountId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  async createApiKey(accountId: string, name: string): Promise<{ apiKey: ApiKey; key: string }> {
    const keyName = checkName('name', name);
    return this.db.writes.write(({ manager }) => this.insertKey(manager, accountId, keyName));
  }

  /** Revokes a key of the account; it stops working for the very next request and its live connections close. */
  async revokeApiKey(accountId: string, id: string): Promise<ApiKey> {
    return this.db.writes.write(async (tx) => {
      const { manager } = tx;
      const apiKey = await manager.findOneBy(ApiKey, { id: clientId(id), accountId });
      if (!apiKey) throw new NotFound('API key');
      if (!apiKey.revokedAt) {
        apiKey.revokedAt = this.clock.now();
        await manager.update(ApiKey, { id }, { revokedAt: apiKey.revokedAt });
        await this.live?.changes.record(tx, 'apiKeyRevoked', { apiKeyId: id, accountId });
        tx.afterCommit(() => this.keys.forgetKey(id));
      }
      return apiKey;
    });
  }

  private async insertKey(manager: EntityManager, accountId: string, name: string): Promise<{ apiKey: ApiKey; key: string }> {
    const key = generateApiKey();
    const createdAt = this.clock.now();
    const apiKey = manager.create(ApiKey, {
      id: newId('key', createdAt.getTime()),
      accountId,
      name,
      keyHash: hashApiKey(key),
      prefix: key.slice(0, 8),
      createdAt,
      revokedAt: null,
    });
    await manager.insert(ApiKey, apiKey);
    return { apiKey, key };
  }
}
