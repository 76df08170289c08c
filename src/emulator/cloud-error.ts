/** A failed request, answered in Compute's CloudError envelope `{error: {code, message, target?, details?}}`. */
export class CloudError extends Error {
  override readonly name = 'CloudError';
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly details: { code: string; message: string; target?: string }[];
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { target?: string; details?: { code: string; message: string; target?: string }[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.target = extra.target;
    this.details = extra.details ?? [];
    this.headers = extra.headers ?? {};
  }

  body(): { error: { code: string; message: string; target?: string; details?: { code: string; message: string; target?: string }[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.target === undefined ? {} : { target: this.target }),
        ...(this.details.length === 0 ? {} : { details: this.details }),
      },
    };
  }
}

export function invalidParameter(message: string, target?: string): CloudError {
  return new CloudError(400, 'InvalidParameter', message, target === undefined ? {} : { target });
}

export function resourceNotFound(type: string, name: string, resourceGroup: string): CloudError {
  return new CloudError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found.`);
}

export function parentNotFound(parentPath: string): CloudError {
  return new CloudError(404, 'ParentResourceNotFound', `Can not perform requested operation on nested resource. Parent resource '${parentPath}' not found.`);
}

export function propertyChangeNotAllowed(property: string): CloudError {
  return new CloudError(400, 'PropertyChangeNotAllowed', `Changing property '${property}' is not allowed.`, { target: property });
}
